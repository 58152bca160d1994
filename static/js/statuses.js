// The statuses a reply ends in, as the server's Message.FINISHED: a reply in one of
// them streams no more, so the page stops following it.

import { tp } from "./i18n.js";

export const FINISHED = new Set(["complete", "cancelled", "failed", "interrupted"]);

// A message's status as people read it (in the export, notices): short, lower case.
export function statusLabel(status) {
  const labels = {
    pending: tp("status", "waiting"),
    streaming: tp("status", "being written"),
    complete: tp("status", "complete"),
    cancelled: tp("status", "stopped"),
    failed: tp("status", "failed"),
    interrupted: tp("status", "interrupted"),
  };
  return labels[status] ?? status;
}
