package io.stowage.engine;

import io.stowage.catalog.Manifest;
import io.stowage.repository.Repository;
import java.io.IOException;
import java.util.List;
import java.util.Optional;

/**
 * An engine's continuous log archive (PostgreSQL's WAL, MariaDB's binlogs): which spooled names are log files, where
 * they live in a repository, and what a backup needs from it. Shipping a spool (oldest first, every repository before
 * the file leaves the spool) and its RPO are common; this says what the files mean.
 */
public interface LogArchive {
    /** The directory name under {@code <job>/} in a repository: {@code wal}, {@code binlog}. */
    String directory();

    /** Whether a spooled file name is a finished log file to ship (not a partial one, not a temporary name). */
    boolean isLogFile(String name);

    /**
     * The log files {@code backup} needs to be consistent that {@code repository} lacks (empty when it has them all,
     * or when the backup needs none).
     */
    List<String> missing(Repository repository, Manifest backup) throws IOException;

    /** The first gap in the archive of {@code job} in {@code repository} after {@code since}'s start, if any. */
    Optional<String> gapAfter(Repository repository, String job, Manifest since) throws IOException;
}
