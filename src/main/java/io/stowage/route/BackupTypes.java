package io.stowage.route;

import io.stowage.catalog.BackupType;
import io.stowage.job.Job;
import java.util.List;

/** Which backup types a job's engine and method support. */
public final class BackupTypes {
    private BackupTypes() {
    }

    public static List<BackupType> supported(Job job) {
        // Logical dumps are always whole; differential and incremental types arrive with the physical methods.
        return List.of(BackupType.FULL);
    }
}
