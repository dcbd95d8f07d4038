package io.stowage.schedule;

import io.stowage.catalog.Catalog;
import io.stowage.job.JobRegistry;
import io.stowage.metrics.BackupMetrics;

/** What the schedule service reads: the jobs, the catalog (all repositories, and the first repository of each job), metrics. */
public interface ScheduleContext {
    JobRegistry jobs();

    Catalog catalog();

    /** The catalog of the local repositories only: what can be read at once, whatever a remote repository does. */
    Catalog localCatalog();

    /**
     * The catalog of the first repository of each of {@code jobs} (where every backup of the job is complete first):
     * usually the home directory alone, cheap to read every few minutes.
     */
    Catalog firstCopies(java.util.Collection<String> jobs);

    BackupMetrics metrics();
}
