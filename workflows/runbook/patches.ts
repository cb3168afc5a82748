// Every patch in force: a change to workflow code that runs in flight goes behind `patched(id)`, so
// a run started before the change replays its old branch and a new run takes the new one. When no
// run that could take an old branch is left, the old branch goes (deprecatePatch first); the
// procedure, and the visibility query that proves it, are in docs/workflow-changes.md.
export const patches = {
  /**
   * 0.2.0: the history archive is written at the close (and by the archive sweep), no longer after
   * every document, so a long run's history is not re-read and rewritten at every step.
   */
  archiveOnlyAtClose: 'archive-only-at-close',
  /**
   * 0.4.0: credential intake stops reminding after maxRemindersPerRequest rounds (it used to remind
   * every interval until the client answered, however long, growing the history without bound).
   */
  boundedIntakeReminders: 'bounded-intake-reminders',
  /**
   * The release after 0.4.0 (issue 16): once its data set's deletion task is completed, a second
   * person validates it in a task of its own (an Update wait and a task email more), so the
   * certificate names a real validator. Runs that began the deletion step before keep the
   * certificate without it.
   */
  deletionValidation: 'deletion-validation',
  /**
   * The release after 0.4.0 (issue 17): a task whose asset names an automated connector (`ssh`, `ldap`) is first done by it; only
   * what it could not do is left to a person. Runs in flight keep their manual tasks.
   */
  connectorAutomation: 'connector-automation',
  /**
   * 0.7.0: a run whose history has grown by its budget (`historyBudget`) continues as new before its
   * next step, carrying the runbook's memory, so no run's history grows without bound.
   */
  continueAsNew: 'continue-as-new',
} as const;
