package io.stowage.engine;

import io.stowage.catalog.CatalogEntry;
import io.stowage.catalog.Manifest;
import io.stowage.job.Job;
import io.stowage.repository.Repository;
import java.io.IOException;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.function.Consumer;

/**
 * An engine's continuous log archive (PostgreSQL's WAL, MariaDB's binlogs): which spooled names are log files, and
 * what a backup needs from the archive. What is common stays outside: the job's log route ships a spool (oldest
 * first; every repository of the job, each object with its {@code .sha256} checksum file, before the file leaves the
 * spool) under {@code <job>/<directory>/}, and measures its lag and RPO; {@code check}, {@code list}, restore and
 * verification ask a {@link Reader} what each backup needs.
 */
public interface LogArchive {

    /** The directory under {@code <job>/} in a repository: {@code wal}, {@code binlog}. */
    String directory();

    /** Whether a spooled file name is a finished log file to ship (not a partial one, not a temporary name). */
    boolean isLogFile(String name);

    /**
     * A reader of the archive: each repository's archive of a job is listed once per reader, so one reader answers
     * for many backups cheaply; make a new one to see new log files.
     */
    Reader reader();

    /** Whether a backup's log has reached each repository holding it: those with all of it, what each other lacks. */
    record Coverage(List<String> complete, Map<String, List<String>> missing) {
    }

    interface Reader {
        /** Whether {@code backup} needs log files to be consistent (a physical backup does, a dump does not). */
        boolean needsLog(Manifest backup);

        /** The log files {@code backup} needs that {@code repository} lacks; empty when it has them all. */
        List<String> missing(Repository repository, Manifest backup) throws IOException;

        /**
         * For each repository (in the order given) holding {@code entry}, whether its archive has the backup's log.
         * One whose archive cannot be listed is reported to {@code warnings} and left out of both.
         */
        Coverage coverage(CatalogEntry entry, List<Repository> repositories, Consumer<String> warnings);

        /** Gaps in the archive of {@code job} in {@code repository} since {@code oldest}'s first log file, named. */
        List<String> gaps(Repository repository, String job, Manifest oldest) throws IOException;

        /** Where the archive holds everything since {@code oldest}: its first log file, for messages. */
        String firstNeeded(Manifest oldest);

        /**
         * For expiry: which of {@code archive} (keys listed under {@code <job>/<directory>/} of one repository) no
         * longer need to be kept. Kept are: every log object each of {@code kept} (the backups the repository keeps
         * that need log) needs to be consistent; everything from where {@code continuousFrom} (one of them) starts
         * onward, so that any point since then can be restored; and what the engine keeps regardless (PostgreSQL's
         * timeline history files). Keys the engine does not recognise are never released.
         */
        List<String> releasable(List<String> archive, List<Manifest> kept, Manifest continuousFrom);

        /**
         * The keys under {@code <job>/<directory>/} in {@code repository}, listed once per reader (what the other
         * questions are answered from).
         */
        List<String> archive(Repository repository, String job) throws IOException;

        /** Log file names for a message: all of a few, or the first and last of many. */
        String describe(List<String> names);
    }

    /**
     * Checks the engine's parameters of the job's log route (a receiver it does not have, a bad number) when the routes
     * are loaded; throws a usage error naming the fix.
     */
    default void validateRoute(Job job, Map<String, String> routeParameters) {
    }

    /** Whether the service itself fills the spool (through a {@link #receiver}), rather than the database server. */
    default boolean serviceFillsSpool(Map<String, String> routeParameters) {
        return false;
    }

    /**
     * A process the service keeps running beside the job's log route to fill its spool (PostgreSQL's
     * pg_receivewal), when the route's parameters ask for one; empty otherwise.
     */
    default Optional<Receiver> receiver(Job job, Map<String, String> routeParameters, EngineContext context) {
        return Optional.empty();
    }

    /** {@code check}'s lines about the receiver the route asks for (privileges, slot); nothing by default. */
    default void checkReceiver(Job job, Map<String, String> routeParameters, EngineContext context,
                               CheckReport report) {
    }

    /** A supervised receiver: started by the service, closed when it stops. */
    interface Receiver extends AutoCloseable {
        void start();

        /** Whether its process runs now (the {@code stowage_wal_receiver_up} gauge). */
        boolean running();

        @Override
        void close();
    }
}
