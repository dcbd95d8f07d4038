package io.stowage.engine.postgresql;

import java.io.ByteArrayOutputStream;
import java.io.FilterOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * A filter on pg_basebackup's tar stream that keeps a copy of a few small top-level files as they pass
 * ({@code backup_label}, {@code backup_manifest}), so that the backup's WAL range is read from the backup itself,
 * in the same single pass. It follows the ustar layout: 512-byte headers, contents padded to 512 bytes.
 */
final class TarTap extends FilterOutputStream {
    private static final int BLOCK = 512;
    private static final long MAX_CAPTURE = 64L * 1024 * 1024;

    private final Set<String> wanted;
    private final Map<String, byte[]> captured = new ConcurrentHashMap<>();
    private final byte[] header = new byte[BLOCK];
    private int headerFill;
    private long remaining;  // bytes of the current entry's content (and padding) still to pass
    private long contentLeft; // of which content
    private ByteArrayOutputStream capture;
    private String currentName;
    private boolean done;

    TarTap(OutputStream out, Set<String> wanted) {
        super(out);
        this.wanted = wanted;
    }

    Map<String, byte[]> captured() {
        return captured;
    }

    @Override
    public void write(int b) throws IOException {
        write(new byte[] {(byte) b}, 0, 1);
    }

    @Override
    public void write(byte[] b, int off, int len) throws IOException {
        out.write(b, off, len);
        int i = off;
        int end = off + len;
        while (i < end && !done) {
            if (remaining > 0) {
                int n = (int) Math.min(remaining, end - i);
                if (capture != null && contentLeft > 0) {
                    int c = (int) Math.min(contentLeft, n);
                    capture.write(b, i, c);
                }
                long content = Math.min(contentLeft, n);
                contentLeft -= content;
                remaining -= n;
                i += n;
                if (remaining == 0 && capture != null) {
                    captured.put(currentName, capture.toByteArray());
                    capture = null;
                }
            } else {
                int n = Math.min(BLOCK - headerFill, end - i);
                System.arraycopy(b, i, header, headerFill, n);
                headerFill += n;
                i += n;
                if (headerFill == BLOCK) {
                    headerFill = 0;
                    startEntry();
                }
            }
        }
    }

    private void startEntry() {
        if (header[0] == 0) {
            return; // an end-of-archive block
        }
        String name = text(0, 100);
        String prefix = text(345, 155);
        if (!prefix.isEmpty()) {
            name = prefix + "/" + name;
        }
        long size = octal(124, 12);
        contentLeft = size;
        remaining = (size + BLOCK - 1) / BLOCK * BLOCK;
        currentName = name.startsWith("./") ? name.substring(2) : name;
        capture = wanted.contains(currentName) && size <= MAX_CAPTURE ? new ByteArrayOutputStream((int) size) : null;
        if (remaining == 0 && capture != null) {
            captured.put(currentName, new byte[0]);
            capture = null;
        }
    }

    private String text(int offset, int length) {
        int end = offset;
        while (end < offset + length && header[end] != 0) {
            end++;
        }
        return new String(header, offset, end - offset, StandardCharsets.UTF_8).trim();
    }

    private long octal(int offset, int length) {
        if ((header[offset] & 0x80) != 0) {
            long value = 0; // base-256 encoding for large sizes
            for (int i = offset + 1; i < offset + length; i++) {
                value = (value << 8) | (header[i] & 0xff);
            }
            return value;
        }
        String digits = text(offset, length).trim();
        return digits.isEmpty() ? 0 : Long.parseLong(digits, 8);
    }
}
