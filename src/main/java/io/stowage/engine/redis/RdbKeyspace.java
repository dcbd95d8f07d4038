package io.stowage.engine.redis;

import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.TreeMap;

/**
 * Reads an RDB file as it passes through the backup and counts its keys per database: the snapshot's own key
 * counts, which verification compares with the restored server. Counting the RDB (not asking INFO before the
 * backup) is what makes the comparison exact on a quiet server and never wrong on a busy one: the RDB is a
 * point-in-time snapshot taken after the INFO, and only the RDB knows what it holds.
 *
 * <p>It also records, per database, how many keys have an expiry and the earliest one: a restored server drops keys
 * whose time has passed while it loads, so after that time the count may be lower by up to that many.
 *
 * <p>The parser skips each value by its encoded lengths (strings, LZF, listpacks, quicklists, streams with consumer
 * groups, module values); it never holds a value in memory. A type it does not know (a newer Redis) stops the count
 * ({@link #unreadable()} says why) without failing the backup. The reader runs on a thread of its own, fed each chunk
 * synchronously by {@link #feed}, so that the pipeline's one-pass copy is unchanged.
 */
public final class RdbKeyspace {
    /** db0, db1, ..., db10 in numeric order. */
    public static final Comparator<String> DATABASE_ORDER = Comparator.comparingInt(RdbKeyspace::databaseNumber)
            .thenComparing(Comparator.naturalOrder());

    /** What one database holds: keys, keys with an expiry, and the earliest expiry (epoch ms, or -1 when none). */
    public record Database(long keys, long volatileKeys, long firstExpiryMillis) {
    }

    private final Map<Integer, long[]> counts = new TreeMap<>();
    private final Map<String, String> aux = new LinkedHashMap<>();
    private final Handoff input = new Handoff();
    private final Thread reader;
    private volatile int version = -1;
    private volatile boolean complete;
    private volatile long length = -1;
    private volatile String unreadable;

    /** The reader's thread starts with the first bytes, so a backup that never streams leaves no thread waiting. */
    public RdbKeyspace() {
        reader = new Thread(this::read, "rdb-keyspace");
        reader.setDaemon(true);
    }

    /** Hands {@code len} bytes to the reader and returns once it has read them (or stopped reading). */
    public void feed(byte[] bytes, int off, int len) {
        synchronized (reader) {
            if (reader.getState() == Thread.State.NEW) {
                reader.start();
            }
        }
        input.feed(bytes, off, len);
    }

    /** The stream has ended (or was abandoned): lets the reader finish and waits for it (briefly). */
    public void end() {
        input.end();
        synchronized (reader) {
            if (reader.getState() == Thread.State.NEW) {
                unreadable = "the RDB was empty";
                return;
            }
        }
        try {
            reader.join(10_000);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /** Whether the RDB was read to its end marker. */
    public boolean complete() {
        return complete;
    }

    /** The RDB's length in bytes (through its checksum) when it was read to its end, else -1. */
    public long length() {
        return length;
    }

    /** Why the keys could not be counted (an unknown type, bytes cut short), or null. */
    public String unreadable() {
        return unreadable;
    }

    public int version() {
        return version;
    }

    /** The RDB's auxiliary fields (redis-ver, redis-bits, ctime, ...). */
    public synchronized Map<String, String> aux() {
        return Map.copyOf(aux);
    }

    /** Keys per database ({@code db0 -> ...}), in database order; only databases with keys. */
    public synchronized Map<String, Database> databases() {
        Map<String, Database> result = new TreeMap<>(DATABASE_ORDER);
        counts.forEach((db, c) -> {
            if (c[0] > 0) {
                result.put("db" + db, new Database(c[0], c[1], c[1] == 0 ? -1 : c[2]));
            }
        });
        return result;
    }

    static int databaseNumber(String name) {
        try {
            return Integer.parseInt(name.startsWith("db") ? name.substring(2) : name);
        } catch (NumberFormatException e) {
            return Integer.MAX_VALUE;
        }
    }

    private void read() {
        try {
            parse(new Reader(input));
            complete = true;
        } catch (Unreadable e) {
            unreadable = e.getMessage();
        } catch (EOFException e) {
            unreadable = "the RDB ended before its end marker";
        } catch (IOException | RuntimeException e) {
            unreadable = "cannot read the RDB: " + e.getMessage();
        } finally {
            input.stopReading();
        }
    }

    private static final class Unreadable extends IOException {
        Unreadable(String message) {
            super(message);
        }
    }

    private void parse(Reader in) throws IOException {
        byte[] magic = in.bytes(9);
        String header = new String(magic, StandardCharsets.US_ASCII);
        if (!header.startsWith("REDIS") || !header.substring(5).chars().allMatch(Character::isDigit)) {
            throw new Unreadable("not an RDB file (no REDIS header)");
        }
        version = Integer.parseInt(header.substring(5));
        int db = 0;
        long expiry = -1;
        while (true) {
            int type = in.u8();
            switch (type) {
                case 0xFF -> { // EOF (a CRC64 follows from version 5 on)
                    if (version >= 5) {
                        in.skip(8);
                    }
                    length = input.consumed();
                    return;
                }
                case 0xFE -> db = (int) in.length(); // SELECTDB
                case 0xFD -> expiry = in.littleEndian(4) * 1000; // EXPIRETIME (seconds)
                case 0xFC -> expiry = in.littleEndian(8); // EXPIRETIME_MS
                case 0xFB -> { // RESIZEDB
                    in.length();
                    in.length();
                }
                case 0xFA -> { // AUX
                    String key = in.smallString();
                    String value = in.smallString();
                    synchronized (this) {
                        if (key != null && value != null && aux.size() < 32) {
                            aux.put(key, value);
                        }
                    }
                }
                case 0xF9 -> { // MODULE_AUX: module id, when-opcode, when, then the module's opcodes
                    in.length();
                    in.length();
                    in.length();
                    skipModuleOpcodes(in);
                }
                case 0xF8 -> in.length(); // IDLE
                case 0xF7 -> in.u8(); // FREQ
                case 0xF5 -> in.skipString(); // FUNCTION2: the library's code
                default -> {
                    in.skipString(); // the key
                    skipValue(in, type);
                    count(db, expiry);
                    expiry = -1;
                }
            }
        }
    }

    private synchronized void count(int db, long expiry) {
        long[] c = counts.computeIfAbsent(db, k -> new long[] {0, 0, Long.MAX_VALUE});
        c[0]++;
        if (expiry >= 0) {
            c[1]++;
            c[2] = Math.min(c[2], expiry);
        }
    }

    private static void skipValue(Reader in, int type) throws IOException {
        switch (type) {
            case 0 -> in.skipString(); // string
            case 1, 2 -> skipStrings(in, in.length()); // list (linked), set
            case 3 -> { // zset, scores as strings
                long n = in.length();
                for (long i = 0; i < n; i++) {
                    in.skipString();
                    int len = in.u8();
                    if (len < 253) {
                        in.skip(len);
                    }
                }
            }
            case 4 -> skipStrings(in, 2 * in.length()); // hash
            case 5 -> { // zset, binary scores
                long n = in.length();
                for (long i = 0; i < n; i++) {
                    in.skipString();
                    in.skip(8);
                }
            }
            case 7 -> { // module value (v2): module id, then its opcodes
                in.length();
                skipModuleOpcodes(in);
            }
            case 9, 10, 11, 12, 13, 16, 17, 20 -> in.skipString(); // zipmap, ziplist, intset, listpack encodings
            case 14 -> skipStrings(in, in.length()); // quicklist of ziplists
            case 18 -> { // quicklist of listpacks, each with its container type
                long n = in.length();
                for (long i = 0; i < n; i++) {
                    in.length();
                    in.skipString();
                }
            }
            case 15, 19, 21 -> skipStream(in, type);
            default -> throw new Unreadable("the RDB holds a value of type " + type + ", which this Stowage does "
                    + "not know (a newer Redis); keys were not counted");
        }
    }

    private static void skipStrings(Reader in, long n) throws IOException {
        for (long i = 0; i < n; i++) {
            in.skipString();
        }
    }

    private static void skipModuleOpcodes(Reader in) throws IOException {
        while (true) {
            long opcode = in.length();
            switch ((int) opcode) {
                case 0 -> {
                    return;
                }
                case 1, 2 -> in.length();
                case 3 -> in.skip(4);
                case 4 -> in.skip(8);
                case 5 -> in.skipString();
                default -> throw new Unreadable("the RDB holds a module value this Stowage cannot read (opcode "
                        + opcode + "); keys were not counted");
            }
        }
    }

    /** Streams: listpacks, length, ids, consumer groups with their pending entries and consumers. */
    private static void skipStream(Reader in, int type) throws IOException {
        long listpacks = in.length();
        for (long i = 0; i < listpacks; i++) {
            in.skipString(); // master id
            in.skipString(); // listpack
        }
        in.length(); // length
        in.length(); // last id ms
        in.length(); // last id seq
        if (type >= 19) {
            for (int i = 0; i < 5; i++) {
                in.length(); // first id, max deleted id, entries added
            }
        }
        long groups = in.length();
        for (long g = 0; g < groups; g++) {
            in.skipString(); // name
            in.length(); // last id ms
            in.length(); // last id seq
            if (type >= 19) {
                in.length(); // entries read
            }
            long pending = in.length();
            for (long p = 0; p < pending; p++) {
                in.skip(16 + 8); // id, delivery time
                in.length(); // delivery count
            }
            long consumers = in.length();
            for (long c = 0; c < consumers; c++) {
                in.skipString(); // name
                in.skip(type >= 21 ? 16 : 8); // seen time (and active time)
                long owned = in.length();
                in.skip(16 * owned);
            }
        }
    }

    /** Reads the RDB's encodings from the handed-over bytes. */
    private static final class Reader {
        private final InputStream in;

        Reader(InputStream in) {
            this.in = in;
        }

        int u8() throws IOException {
            int b = in.read();
            if (b < 0) {
                throw new EOFException();
            }
            return b;
        }

        byte[] bytes(int n) throws IOException {
            byte[] b = in.readNBytes(n);
            if (b.length < n) {
                throw new EOFException();
            }
            return b;
        }

        void skip(long n) throws IOException {
            long left = n;
            while (left > 0) {
                long skipped = in.skip(left);
                if (skipped <= 0) {
                    u8();
                    skipped = 1;
                }
                left -= skipped;
            }
        }

        long littleEndian(int n) throws IOException {
            long value = 0;
            for (int i = 0; i < n; i++) {
                value |= (long) u8() << (8 * i);
            }
            return value;
        }

        long bigEndian(int n) throws IOException {
            long value = 0;
            for (int i = 0; i < n; i++) {
                value = (value << 8) | u8();
            }
            return value;
        }

        /** A length; an encoded-string marker is -1 - encoding. */
        private long lengthOrEncoding() throws IOException {
            int b = u8();
            return switch (b >> 6) {
                case 0 -> b & 0x3F;
                case 1 -> ((long) (b & 0x3F) << 8) | u8();
                case 2 -> switch (b) {
                    case 0x80 -> bigEndian(4);
                    case 0x81 -> bigEndian(8);
                    default -> throw new Unreadable("the RDB holds an unknown length encoding " + b);
                };
                default -> -1 - (b & 0x3F);
            };
        }

        long length() throws IOException {
            long length = lengthOrEncoding();
            if (length < 0) {
                throw new Unreadable("the RDB holds an encoded string where a length belongs");
            }
            return length;
        }

        void skipString() throws IOException {
            long length = lengthOrEncoding();
            if (length >= 0) {
                skip(length);
                return;
            }
            switch ((int) (-1 - length)) {
                case 0 -> skip(1);
                case 1 -> skip(2);
                case 2 -> skip(4);
                case 3 -> { // LZF: compressed length, plain length, compressed bytes
                    long compressed = length();
                    length();
                    skip(compressed);
                }
                default -> throw new Unreadable("the RDB holds an unknown string encoding");
            }
        }

        /** A short string (AUX fields) as text; null (skipped) when it is long or LZF-compressed. */
        String smallString() throws IOException {
            long length = lengthOrEncoding();
            if (length >= 0) {
                if (length > 256) {
                    skip(length);
                    return null;
                }
                return new String(bytes((int) length), StandardCharsets.UTF_8);
            }
            return switch ((int) (-1 - length)) {
                case 0 -> Long.toString((byte) u8());
                case 1 -> Long.toString((short) littleEndian(2));
                case 2 -> Long.toString((int) littleEndian(4));
                case 3 -> {
                    long compressed = length();
                    length();
                    skip(compressed);
                    yield null;
                }
                default -> throw new Unreadable("the RDB holds an unknown string encoding");
            };
        }
    }

    /**
     * Chunks handed from the pipeline's thread to the reader's: {@link #feed} returns once the reader has taken the
     * whole chunk, or has stopped reading (finished, or given up), so nothing is copied or queued.
     */
    private static final class Handoff extends InputStream {
        private byte[] chunk;
        private int position;
        private int limit;
        private boolean ended;
        private boolean stopped;
        private long consumed;

        synchronized long consumed() {
            return consumed;
        }

        synchronized void feed(byte[] bytes, int off, int len) {
            if (stopped || len == 0) {
                return;
            }
            chunk = bytes;
            position = off;
            limit = off + len;
            notifyAll();
            while (chunk != null && !stopped) {
                try {
                    wait();
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    stopped = true;
                }
            }
            chunk = null;
        }

        synchronized void end() {
            ended = true;
            notifyAll();
        }

        synchronized void stopReading() {
            stopped = true;
            chunk = null;
            notifyAll();
        }

        private boolean await() throws IOException {
            while (chunk == null && !ended) {
                try {
                    wait();
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    throw new java.io.InterruptedIOException();
                }
            }
            return chunk != null;
        }

        private void consumed(int n) {
            consumed += n;
            if (position == limit) {
                chunk = null;
                notifyAll();
            }
        }

        @Override
        public synchronized int read() throws IOException {
            if (!await()) {
                return -1;
            }
            int b = chunk[position++] & 0xFF;
            consumed(1);
            return b;
        }

        @Override
        public synchronized int read(byte[] b, int off, int len) throws IOException {
            if (len == 0) {
                return 0;
            }
            if (!await()) {
                return -1;
            }
            int n = Math.min(len, limit - position);
            System.arraycopy(chunk, position, b, off, n);
            position += n;
            consumed(n);
            return n;
        }

        @Override
        public synchronized long skip(long n) throws IOException {
            if (n <= 0 || !await()) {
                return 0;
            }
            int k = (int) Math.min(n, limit - position);
            position += k;
            consumed(k);
            return k;
        }
    }
}
