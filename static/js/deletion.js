// What deleting a conversation really does, in the confirm dialog's words: it leaves the
// owner's list at once; administrators keep it for audits and spend until the retention
// policy (if any) purges it. A legal hold is mentioned, never revealed to its subject.

import { formatInt } from "./format.js";
import { t, tn } from "./i18n.js";

export function deleteDialogText(title, retentionDays) {
  if (!retentionDays) {
    return t(
      "“%(title)s” disappears from your list at once. Administrators can still review its messages for audits and spend. They are kept until an administrator removes them.",
      { title },
    );
  }
  return tn(
    "“%(title)s” disappears from your list at once. Administrators can still review its messages for audits and spend. Its messages are removed for good by the retention policy %(count)s day after they were sent, unless a legal hold requires keeping them.",
    "“%(title)s” disappears from your list at once. Administrators can still review its messages for audits and spend. Its messages are removed for good by the retention policy %(count)s days after they were sent, unless a legal hold requires keeping them.",
    retentionDays,
    { title, count: formatInt(retentionDays) },
  );
}
