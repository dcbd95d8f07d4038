package io.stowage.schedule;

import io.stowage.catalog.Catalog;
import io.stowage.job.JobRegistry;
import io.stowage.metrics.BackupMetrics;

/** What the schedule service reads: the jobs, the catalog (all repositories, and the home repository's alone), metrics. */
public interface ScheduleContext {
    JobRegistry jobs();

    Catalog catalog();

    /** The catalog of the home repository alone: fast to read, for catch-up decisions after a restart. */
    Catalog homeCatalog();

    BackupMetrics metrics();
}
