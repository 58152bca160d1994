// The statuses a reply ends in, as the server's Message.FINISHED: a reply in one of
// them streams no more, so the page stops following it.

export const FINISHED = new Set(["complete", "cancelled", "failed", "interrupted"]);
