package io.stowage.engine.redis;

import io.stowage.Secrets;
import io.stowage.StowageException;
import io.stowage.pipeline.BackupStream;
import io.stowage.pipeline.ExternalProcess;
import java.io.IOException;
import java.io.InputStream;
import java.util.List;

/**
 * {@code redis-cli --rdb -} as a backup source: the server's RDB snapshot, as a replica would receive it, on
 * redis-cli's stdout, in bounded memory and with no copy on disk.
 *
 * <p>redis-cli (7.0) writes a diskless transfer's end-of-file mark (40 characters that follow the RDB) to stdout too,
 * as it cannot cut it off as it does from a file. So the stream always holds back its last 40 bytes until redis-cli
 * has ended, then passes on exactly the RDB: as long as {@link RdbKeyspace} read it to its end marker and checksum,
 * and else (an RDB it could not read through) without the mark when redis-cli said it used one. The RDB is whole
 * only if redis-cli exited 0: it checks the transfer's length or end mark itself.
 */
public final class RedisRdb implements BackupStream.Source {
    /** Name of the stored snapshot before the codec suffix. */
    public static final String OBJECT_NAME = "dump.rdb";
    private static final int MARK = 40;

    private final RedisConnection connection;
    private final RdbKeyspace keyspace;
    private ExternalProcess process;
    private boolean finished;

    public RedisRdb(RedisConnection connection, RdbKeyspace keyspace) {
        this.connection = connection;
        this.keyspace = keyspace;
    }

    List<String> command() {
        List<String> command = new java.util.ArrayList<>();
        command.add(connection.tool("redis-cli"));
        command.addAll(connection.arguments());
        command.addAll(List.of("--rdb", "-"));
        return command;
    }

    @Override
    public InputStream open() {
        process = ExternalProcess.start(command(), connection.environment(), false);
        return new Stdout(process.stdout());
    }

    @Override
    public void finish() {
        if (!finished) {
            throw new StowageException("redis-cli's RDB from " + connection.describe() + " was not read to its end");
        }
    }

    @Override
    public String objectName() {
        return OBJECT_NAME;
    }

    @Override
    public void close() {
        if (process != null) {
            process.close();
        }
        keyspace.end();
    }

    /** Waits for redis-cli and turns its failure into one line: login, refused SYNC, lost connection. */
    private void awaitTool() {
        try {
            process.awaitSuccess();
        } catch (io.stowage.Interruption.Interrupted e) {
            throw e;
        } catch (StowageException e) {
            throw failure(connection, process.stderr(), e);
        }
    }

    static StowageException failure(RedisConnection connection, String stderr, StowageException cause) {
        for (String line : stderr.split("\\R")) {
            String l = line.strip();
            if (RedisCli.isTls(l)) {
                return RedisCli.tls(connection, l);
            }
            if (l.startsWith("Could not connect to Redis")) {
                return RedisCli.unreachable(connection, l);
            }
            if (l.contains("WRONGPASS") || l.contains("invalid username-password")) {
                return RedisCli.wrongPassword(connection, l);
            }
        }
        for (String line : stderr.split("\\R")) {
            String l = line.strip();
            if (l.startsWith("SYNC with master failed") || l.startsWith("PSYNC") || l.contains("Error reading RDB")) {
                if (l.contains("NOAUTH")) {
                    return RedisCli.noAuth(connection);
                }
                if (l.contains("NOPERM")) {
                    return new StowageException(connection.describe() + " does not let " + (connection.user() == null
                            ? "this user" : "user '" + connection.user() + "'") + " take an RDB (" + Secrets.mask(l)
                            + "); HINT: grant +sync and +psync to the user (ACL SETUSER ... +sync +psync)");
                }
                if (l.contains("-ERR") || l.contains("unknown command") || l.contains("not allowed")) {
                    return new StowageException(connection.describe() + " refused the replication stream that redis-cli "
                            + "--rdb needs (" + Secrets.mask(l) + "); HINT: managed services (ElastiCache, MemoryStore, "
                            + "Azure Cache) disable SYNC: use the provider's snapshot export, or back up a "
                            + "self-managed replica");
                }
            }
        }
        String message = "redis-cli --rdb from " + connection.describe() + " failed: "
                + cause.getMessage().replaceFirst("^redis-cli failed ", "");
        return cause.isTransient() || stderr.contains("I/O error") || stderr.contains("Error reading")
                ? StowageException.transientFailure(message, cause) : new StowageException(message, cause);
    }

    /**
     * redis-cli's stdout, fed to the keyspace reader as it passes, with its last {@value #MARK} bytes held back until
     * the end, where only the RDB's own bytes are let through.
     */
    private final class Stdout extends InputStream {
        private final InputStream in;
        private final byte[] buffer = new byte[(1 << 16) + MARK];
        private int start;
        private int end;
        private boolean eof;
        private long passed;

        Stdout(InputStream in) {
            this.in = in;
        }

        @Override
        public int read() throws IOException {
            byte[] one = new byte[1];
            int n = read(one, 0, 1);
            return n < 0 ? -1 : one[0] & 0xFF;
        }

        @Override
        public int read(byte[] b, int off, int len) throws IOException {
            if (len == 0) {
                return 0;
            }
            while (true) {
                int available = eof ? end - start : end - start - MARK;
                if (available > 0) {
                    int n = Math.min(len, available);
                    System.arraycopy(buffer, start, b, off, n);
                    start += n;
                    passed += n;
                    return n;
                }
                if (eof) {
                    return -1;
                }
                if (start > 0) {
                    System.arraycopy(buffer, start, buffer, 0, end - start);
                    end -= start;
                    start = 0;
                }
                int r = in.read(buffer, end, buffer.length - end);
                if (r < 0) {
                    eof = true;
                    ended();
                    continue;
                }
                keyspace.feed(buffer, end, r);
                end += r;
            }
        }

        /** redis-cli's output has ended: waits for it, then keeps exactly the RDB of what is held back. */
        private void ended() {
            keyspace.end();
            awaitTool();
            long total = passed + (end - start);
            if (keyspace.complete()) {
                long extra = total - keyspace.length();
                if (extra < 0 || extra > end - start || (extra != 0 && extra != MARK)) {
                    throw new StowageException("redis-cli's RDB from " + connection.describe() + " has " + total
                            + " bytes, its end marker is at " + keyspace.length() + "; the backup is not stored");
                }
                end -= (int) extra;
            } else if (process.stderr().contains("until EOF marker") && end - start >= MARK
                    && isMark(buffer, end - MARK)) {
                end -= MARK;
            }
            finished = true;
        }

        private static boolean isMark(byte[] bytes, int from) {
            for (int i = from; i < from + MARK; i++) {
                byte c = bytes[i];
                if (!(c >= '0' && c <= '9' || c >= 'a' && c <= 'f')) {
                    return false;
                }
            }
            return true;
        }

        @Override
        public void close() throws IOException {
            in.close();
        }
    }
}
