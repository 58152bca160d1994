// What deleting a conversation really does, in the confirm dialog's words: it leaves the
// owner's list at once; administrators keep it for audits and spend until the retention
// policy (if any) purges it. A legal hold is mentioned, never revealed to its subject.

export function deleteDialogText(title, retentionDays) {
  const kept = retentionDays
    ? `Its messages are removed for good by the retention policy ${retentionDays} days after they were sent, unless a legal hold requires keeping them.`
    : "They are kept until an administrator removes them.";
  return (
    `“${title}” disappears from your list at once. Administrators can still review its ` +
    `messages for audits and spend. ${kept}`
  );
}
