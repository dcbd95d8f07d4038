package io.stowage.testing;

import java.io.BufferedWriter;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Locale;
import java.util.function.Function;
import java.util.function.Supplier;
import org.gaul.s3proxy.blobstore.BlobStore;
import org.gaul.s3proxy.blobstore.ForwardingBlobStore;
import software.amazon.awssdk.core.ResponseInputStream;
import software.amazon.awssdk.services.s3.model.DeleteObjectRequest;
import software.amazon.awssdk.services.s3.model.DeleteObjectResponse;
import software.amazon.awssdk.services.s3.model.DeleteObjectsRequest;
import software.amazon.awssdk.services.s3.model.DeleteObjectsResponse;
import software.amazon.awssdk.services.s3.model.GetObjectRequest;
import software.amazon.awssdk.services.s3.model.GetObjectResponse;
import software.amazon.awssdk.services.s3.model.HeadObjectRequest;
import software.amazon.awssdk.services.s3.model.HeadObjectResponse;
import software.amazon.awssdk.services.s3.model.ListObjectsV2Request;
import software.amazon.awssdk.services.s3.model.ListObjectsV2Response;
import software.amazon.awssdk.services.s3.model.PutObjectRequest;
import software.amazon.awssdk.services.s3.model.PutObjectResponse;

/**
 * A blob store that appends one line per call to a file as the call ends, for a benchmark to see what a command
 * asked of the S3 server and where the server's time went: {@code <epoch ms> <operation> <ms taken> <details>}, e.g.
 * {@code 1767000000123 list 2113.481 prefix=main/wal/ delimiter=- after=yes keys=1000} or
 * {@code 1767000000456 deleteObjects 80.112 keys=1000 errors=0}. Operations: {@code list}, {@code put}, {@code get},
 * {@code head}, {@code delete} (DeleteObject), {@code deleteObjects}; a call that failed ends with
 * {@code failed=<exception>}. The time is the blob store's alone (S3Proxy's HTTP handling, signature check and XML
 * are not in it).
 */
public final class CallLogBlobStore extends ForwardingBlobStore {
    private final BufferedWriter out;

    public CallLogBlobStore(BlobStore delegate, Path log) throws IOException {
        super(delegate);
        this.out = Files.newBufferedWriter(log, StandardCharsets.UTF_8, StandardOpenOption.CREATE,
                StandardOpenOption.APPEND);
    }

    @Override
    public ListObjectsV2Response list(ListObjectsV2Request request) {
        return timed("list", () -> super.list(request), r -> "prefix=" + orDash(request.prefix()) + " delimiter="
                + orDash(request.delimiter()) + " after=" + (request.continuationToken() != null
                || request.startAfter() != null ? "yes" : "no") + " keys=" + r.contents().size()
                + " prefixes=" + r.commonPrefixes().size());
    }

    @Override
    public PutObjectResponse putBlob(PutObjectRequest request, InputStream input) {
        return timed("put", () -> super.putBlob(request, input), r -> "key=" + request.key());
    }

    @Override
    public ResponseInputStream<GetObjectResponse> getBlob(GetObjectRequest request) {
        return timed("get", () -> super.getBlob(request), r -> "key=" + request.key());
    }

    @Override
    public HeadObjectResponse blobMetadata(HeadObjectRequest request) {
        return timed("head", () -> super.blobMetadata(request), r -> "key=" + request.key());
    }

    @Override
    public DeleteObjectResponse removeBlob(DeleteObjectRequest request) {
        return timed("delete", () -> super.removeBlob(request), r -> "key=" + request.key());
    }

    @Override
    public DeleteObjectsResponse removeBlobs(DeleteObjectsRequest request) {
        int keys = request.delete() == null ? 0 : request.delete().objects().size();
        return timed("deleteObjects", () -> delegate().removeBlobs(request), r -> "keys=" + keys + " errors="
                + r.errors().size());
    }

    @Override
    public void close() {
        try {
            synchronized (out) {
                out.close();
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        super.close();
    }

    private <T> T timed(String operation, Supplier<T> call, Function<T, String> details) {
        long start = System.nanoTime();
        T result;
        try {
            result = call.get();
        } catch (RuntimeException | Error e) {
            write(operation, start, "failed=" + e.getClass().getSimpleName());
            throw e;
        }
        write(operation, start, result == null ? "null" : details.apply(result));
        return result;
    }

    private void write(String operation, long start, String details) {
        String line = String.format(Locale.ROOT, "%d %s %.3f %s%n", System.currentTimeMillis(), operation,
                (System.nanoTime() - start) / 1e6, details);
        try {
            synchronized (out) {
                out.write(line);
                out.flush();
            }
        } catch (IOException e) {
            // the log is for the benchmark; the server goes on
        }
    }

    private static String orDash(String value) {
        return value == null || value.isEmpty() ? "-" : value;
    }
}
