package io.stowage.repository;

import java.io.ByteArrayInputStream;
import java.io.FilterInputStream;
import java.io.IOException;
import java.time.Duration;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import software.amazon.awssdk.awscore.exception.AwsServiceException;
import software.amazon.awssdk.core.exception.SdkClientException;
import software.amazon.awssdk.core.exception.SdkException;
import software.amazon.awssdk.core.sync.RequestBody;
import software.amazon.awssdk.awscore.AwsRequestOverrideConfiguration;
import software.amazon.awssdk.services.s3.LegacyMd5Plugin;
import software.amazon.awssdk.services.s3.S3Client;
import software.amazon.awssdk.services.s3.model.AbortMultipartUploadRequest;
import software.amazon.awssdk.services.s3.model.ChecksumAlgorithm;
import software.amazon.awssdk.services.s3.model.ChecksumMode;
import software.amazon.awssdk.services.s3.model.CompleteMultipartUploadRequest;
import software.amazon.awssdk.services.s3.model.CompletedMultipartUpload;
import software.amazon.awssdk.services.s3.model.CompletedPart;
import software.amazon.awssdk.services.s3.model.CopyObjectRequest;
import software.amazon.awssdk.services.s3.model.UploadPartCopyRequest;
import software.amazon.awssdk.services.s3.model.CreateMultipartUploadRequest;
import software.amazon.awssdk.services.s3.model.Delete;
import software.amazon.awssdk.services.s3.model.DeleteObjectRequest;
import software.amazon.awssdk.services.s3.model.DeleteObjectsRequest;
import software.amazon.awssdk.services.s3.model.DeleteObjectsResponse;
import software.amazon.awssdk.services.s3.model.ObjectIdentifier;
import software.amazon.awssdk.services.s3.model.S3Error;
import software.amazon.awssdk.services.s3.model.GetObjectRequest;
import software.amazon.awssdk.services.s3.model.HeadBucketRequest;
import software.amazon.awssdk.services.s3.model.HeadObjectRequest;
import software.amazon.awssdk.services.s3.model.CommonPrefix;
import software.amazon.awssdk.services.s3.model.ListObjectsV2Request;
import software.amazon.awssdk.services.s3.model.ListObjectsV2Response;
import software.amazon.awssdk.services.s3.model.NoSuchBucketException;
import software.amazon.awssdk.services.s3.model.NoSuchKeyException;
import software.amazon.awssdk.services.s3.model.PutObjectRequest;
import software.amazon.awssdk.services.s3.model.S3Object;
import software.amazon.awssdk.services.s3.model.StorageClass;
import software.amazon.awssdk.services.s3.model.UploadPartRequest;

/**
 * A repository in an S3 bucket under a key prefix. Atomicity comes from S3 itself: a single PUT, or a multipart
 * upload that only becomes an object when it is completed (and is aborted when a part fails), is visible whole or
 * not at all. Streams of unknown length are cut into parts of {@code partSize} bytes, so memory stays bounded by one
 * part whatever the object's size.
 *
 * <p>With checksums on (the default), every PUT and every part carries the SHA-256 of its bytes in an
 * {@code x-amz-checksum-sha256} header, computed here from the part in memory: S3 refuses a body that does not match
 * it ({@code BadDigest}) and keeps it with the object, and a multipart upload is created for SHA-256 and completed
 * with every part's checksum, so S3 keeps the composite checksum of the parts. The value travels as a plain header,
 * not as an aws-chunked trailer (which is what the SDK itself would send), so it works signed or unsigned, over HTTP
 * or HTTPS, and on S3-compatible servers that do not take trailers. Reads ask for the stored checksum
 * ({@code ChecksumMode.ENABLED}) and the SDK compares a whole-object checksum with the bytes as they arrive; a
 * multipart object's composite checksum is not checked by the SDK, and every reader of a backup object re-hashes it
 * against the manifest's SHA-256 anyway.
 */
public final class S3Repository implements Repository {
    /** S3's smallest part size for every part but the last. */
    public static final int MIN_PART_SIZE = 5 * 1024 * 1024;

    private final String name;
    private final S3Client s3;
    private final String bucket;
    private final String prefix;
    private final int partSize;
    private final boolean checksums;
    private final S3Settings.Timeouts timeouts;
    /** A metadata call (HEAD, LIST, DELETE, creating or aborting an upload): bounded by the call timeout. */
    private final java.util.function.Consumer<AwsRequestOverrideConfiguration.Builder> metadataCall;
    /** A data transfer (PUT of an object or a part, GET of an object, a copy): bounded by the transfer timeout. */
    private final java.util.function.Consumer<AwsRequestOverrideConfiguration.Builder> transferCall;

    /** A repository whose uploads carry SHA-256 checksums. */
    public S3Repository(String name, S3Client s3, String bucket, String prefix, int partSize) {
        this(name, s3, bucket, prefix, partSize, true);
    }

    /**
     * @param checksums whether uploads carry SHA-256 checksums and reads ask for the stored checksum
     *                  ({@code stowage.repository.s3.checksum}); off for servers that refuse them
     */
    public S3Repository(String name, S3Client s3, String bucket, String prefix, int partSize, boolean checksums) {
        this(name, s3, bucket, prefix, partSize, checksums, S3Settings.Timeouts.DEFAULT);
    }

    /**
     * @param timeouts the bounds of one call as a whole, the SDK's own retries included (the connect and read
     *                 timeouts are the client's: {@link S3Settings#client()})
     */
    public S3Repository(String name, S3Client s3, String bucket, String prefix, int partSize, boolean checksums,
                        S3Settings.Timeouts timeouts) {
        this.timeouts = timeouts;
        this.metadataCall = o -> o.apiCallTimeout(timeouts.call());
        this.transferCall = o -> o.apiCallTimeout(timeouts.transfer());
        this.name = name;
        this.s3 = s3;
        this.bucket = bucket;
        this.prefix = normalizePrefix(prefix);
        this.partSize = Math.max(partSize, MIN_PART_SIZE);
        this.checksums = checksums;
    }

    static String normalizePrefix(String prefix) {
        if (prefix == null || prefix.isBlank() || prefix.equals("/")) {
            return "";
        }
        String p = prefix.strip();
        while (p.startsWith("/")) {
            p = p.substring(1);
        }
        return p.endsWith("/") ? p : p + "/";
    }

    /** The bounds of one call to this repository. */
    public S3Settings.Timeouts timeouts() {
        return timeouts;
    }

    @Override
    public String name() {
        return name;
    }

    @Override
    public String location() {
        return "s3://" + bucket + "/" + prefix;
    }

    public String bucket() {
        return bucket;
    }

    /** The key prefix, empty or ending in '/'. */
    public String prefix() {
        return prefix;
    }

    /** The full S3 key of a repository key: the prefix, then the key. */
    public String objectKey(String key) {
        return prefix + Keys.check(key);
    }

    @Override
    public long write(String key, ObjectWriter writer) throws IOException {
        return write(key, writer, null);
    }

    private long write(String key, ObjectWriter writer, StorageClass storageClass) throws IOException {
        String objectKey = objectKey(key);
        PartUploader uploader = new PartUploader(objectKey, storageClass);
        try (uploader) {
            writer.writeTo(uploader);
            uploader.complete();
            return uploader.total;
        } catch (SdkException e) {
            throw failure("write", key, e, uploader.bound);
        }
    }

    @Override
    public void upload(String key, Path file) throws IOException {
        write(key, out -> Files.copy(file, out));
    }

    /** Copies a local file under {@code key} in the given S3 storage class ({@code STANDARD_IA}, {@code GLACIER_IR}...). */
    @Override
    public void upload(String key, Path file, String storageClass) throws IOException {
        write(key, out -> Files.copy(file, out), storageClass(storageClass));
    }

    /**
     * A copy from another S3 repository that this one's client reaches (the same client: one endpoint, one set of
     * credentials) is made by S3 itself, server-side: CopyObject up to 5 GiB, a multipart upload of UploadPartCopy
     * ranges above, each asking S3 for the SHA-256 of what it stores. Any other source is read and uploaded.
     */
    @Override
    public void copy(String key, Repository source, String storageClass) throws IOException {
        if (source.unwrap() instanceof S3Repository from && from.s3 == s3) {
            serverSideCopy(key, from, storageClass(storageClass));
            return;
        }
        Repository.super.copy(key, source, storageClass);
    }

    @Override
    public void copyStream(String key, Repository source, String storageClass) throws IOException {
        write(key, out -> {
            try (InputStream in = source.open(key)) {
                in.transferTo(out);
            }
        }, storageClass(storageClass));
    }

    /** The largest object one CopyObject may copy (5 GiB); above it, UploadPartCopy. */
    static final long MAX_COPY_OBJECT = 5L * 1024 * 1024 * 1024;
    /** The most parts a multipart upload may have. */
    private static final int MAX_PARTS = 10_000;

    /** Objects larger than this are copied part by part; {@link #MAX_COPY_OBJECT} but in tests. */
    private long singleCopyLimit = MAX_COPY_OBJECT;

    /** For tests: copy objects larger than {@code bytes} with UploadPartCopy. */
    void singleCopyLimit(long bytes) {
        this.singleCopyLimit = bytes;
    }

    private void serverSideCopy(String key, S3Repository from, StorageClass storageClass) throws IOException {
        String sourceKey = from.objectKey(key);
        String targetKey = objectKey(key);
        try {
            long size;
            try {
                size = s3.headObject(HeadObjectRequest.builder().bucket(from.bucket).key(sourceKey)
                        .overrideConfiguration(metadataCall).build()).contentLength();
            } catch (NoSuchKeyException e) {
                throw new ObjectNotFoundException(from.name, key);
            } catch (AwsServiceException e) {
                if (e.statusCode() == 404 && !(e instanceof NoSuchBucketException)) {
                    throw new ObjectNotFoundException(from.name, key);
                }
                throw e;
            }
            if (size <= singleCopyLimit) {
                CopyObjectRequest.Builder request = CopyObjectRequest.builder().sourceBucket(from.bucket)
                        .sourceKey(sourceKey).destinationBucket(bucket).destinationKey(targetKey)
                        .storageClass(storageClass);
                if (checksums) {
                    request.checksumAlgorithm(ChecksumAlgorithm.SHA256);
                }
                s3.copyObject(request.overrideConfiguration(transferCall).build());
                return;
            }
            copyInParts(from, sourceKey, targetKey, size, storageClass);
        } catch (SdkException e) {
            throw failure("copy", key, e);
        }
    }

    private void copyInParts(S3Repository from, String sourceKey, String targetKey, long size,
                             StorageClass storageClass) {
        CreateMultipartUploadRequest.Builder create = CreateMultipartUploadRequest.builder().bucket(bucket)
                .key(targetKey).storageClass(storageClass);
        if (checksums) {
            create.checksumAlgorithm(ChecksumAlgorithm.SHA256);
        }
        String uploadId = s3.createMultipartUpload(create.overrideConfiguration(metadataCall).build()).uploadId();
        boolean completed = false;
        try {
            long part = Math.max(partSize, (size + MAX_PARTS - 1) / MAX_PARTS);
            List<CompletedPart> parts = new ArrayList<>();
            for (long offset = 0; offset < size; offset += part) {
                io.stowage.Interruption.check();
                int number = parts.size() + 1;
                long last = Math.min(size, offset + part) - 1;
                var result = s3.uploadPartCopy(UploadPartCopyRequest.builder().sourceBucket(from.bucket)
                        .sourceKey(sourceKey).destinationBucket(bucket).destinationKey(targetKey).uploadId(uploadId)
                        .partNumber(number).copySourceRange("bytes=" + offset + "-" + last)
                        .overrideConfiguration(transferCall).build()).copyPartResult();
                parts.add(CompletedPart.builder().partNumber(number).eTag(result.eTag())
                        .checksumSHA256(checksums ? result.checksumSHA256() : null).build());
            }
            s3.completeMultipartUpload(CompleteMultipartUploadRequest.builder().bucket(bucket).key(targetKey)
                    .uploadId(uploadId).multipartUpload(CompletedMultipartUpload.builder().parts(parts).build())
                    .overrideConfiguration(transferCall).build());
            completed = true;
        } finally {
            if (!completed) {
                try {
                    s3.abortMultipartUpload(AbortMultipartUploadRequest.builder().bucket(bucket).key(targetKey)
                            .uploadId(uploadId).overrideConfiguration(metadataCall).build());
                } catch (SdkException e) {
                    // The upload stays invisible either way; a bucket lifecycle rule removes abandoned parts.
                }
            }
        }
    }

    /** An S3 storage class by its name; null or blank means the bucket's default. */
    public static StorageClass storageClass(String name) {
        if (name == null || name.isBlank()) {
            return null;
        }
        StorageClass storageClass = StorageClass.fromValue(name.trim());
        if (storageClass == StorageClass.UNKNOWN_TO_SDK_VERSION) {
            throw io.stowage.StowageException.usage("'" + name.trim() + "' is not an S3 storage class; HINT: use one of "
                    + StorageClass.knownValues());
        }
        return storageClass;
    }

    @Override
    public InputStream open(String key) throws IOException {
        try {
            GetObjectRequest.Builder request = GetObjectRequest.builder().bucket(bucket).key(objectKey(key));
            if (checksums) {
                request.checksumMode(ChecksumMode.ENABLED);
            }
            return new ReadFailures(s3.getObject(request.overrideConfiguration(transferCall).build()), key);
        } catch (NoSuchKeyException e) {
            throw new ObjectNotFoundException(name, key);
        } catch (SdkException e) {
            throw failure("read", key, e);
        }
    }

    @Override
    public boolean exists(String key) throws IOException {
        try {
            s3.headObject(HeadObjectRequest.builder().bucket(bucket).key(objectKey(key))
                    .overrideConfiguration(metadataCall).build());
            return true;
        } catch (NoSuchKeyException e) {
            return false;
        } catch (AwsServiceException e) {
            if (e.statusCode() == 404 && !(e instanceof NoSuchBucketException)) {
                return false;
            }
            throw failure("look up", key, e);
        } catch (SdkException e) {
            throw failure("look up", key, e);
        }
    }

    @Override
    public List<String> list(String keyPrefix) throws IOException {
        Keys.checkPrefix(keyPrefix);
        List<String> keys = new ArrayList<>();
        try {
            ListObjectsV2Request request = ListObjectsV2Request.builder().bucket(bucket).prefix(prefix + keyPrefix)
                    .overrideConfiguration(metadataCall).build();
            for (S3Object object : s3.listObjectsV2Paginator(request).contents()) {
                keys.add(object.key().substring(prefix.length()));
            }
        } catch (SdkException e) {
            throw failure("list", keyPrefix.isEmpty() ? "/" : keyPrefix, e);
        }
        keys.sort(null);
        return keys;
    }

    @Override
    public List<String> children(String directory) throws IOException {
        Keys.checkPrefix(directory);
        if (!directory.isEmpty() && !directory.endsWith("/")) {
            throw new IllegalArgumentException("'" + directory + "' is not a directory prefix (it must end in '/')");
        }
        String from = prefix + directory;
        List<String> names = new ArrayList<>();
        try {
            ListObjectsV2Request request = ListObjectsV2Request.builder().bucket(bucket).prefix(from).delimiter("/")
                    .overrideConfiguration(metadataCall).build();
            for (ListObjectsV2Response page : s3.listObjectsV2Paginator(request)) {
                for (S3Object object : page.contents()) {
                    names.add(object.key().substring(from.length()));
                }
                for (CommonPrefix common : page.commonPrefixes()) {
                    names.add(common.prefix().substring(from.length()));
                }
            }
        } catch (SdkException e) {
            throw failure("list", directory.isEmpty() ? "/" : directory, e);
        }
        names.sort(null);
        return names;
    }

    @Override
    public void delete(String key) throws IOException {
        try {
            s3.deleteObject(DeleteObjectRequest.builder().bucket(bucket).key(objectKey(key))
                    .overrideConfiguration(metadataCall).build());
        } catch (NoSuchKeyException e) {
            // already gone
        } catch (SdkException e) {
            throw failure("delete", key, e);
        }
    }

    /** The most keys one DeleteObjects request may name. */
    static final int DELETE_BATCH = 1000;

    /**
     * The error codes of a key in a DeleteObjects answer that calling again may clear: throttling and the server's
     * own trouble. Any other code (AccessDenied, an Object Lock's refusal, ...) stays until someone acts.
     */
    static final java.util.Set<String> TRANSIENT_DELETE_ERRORS = java.util.Set.of("SlowDown", "InternalError",
            "ServiceUnavailable", "RequestTimeout");

    /**
     * DeleteObjects, {@value #DELETE_BATCH} keys a request, in quiet mode (the answer lists only the keys that
     * failed). A key S3 reports as failed is recorded and the next batches are still sent; a request that fails as
     * a whole ends the call. Each request is a metadata call, bounded by the call timeout. S3 requires a checksum
     * of a DeleteObjects body: the SDK sends its CRC32 as a plain header, and each request also carries the body's
     * Content-MD5, the one S3-compatible servers older than S3's flexible checksums require.
     */
    @Override
    public void delete(java.util.Collection<String> keys) throws IOException {
        java.util.Set<String> distinct = new java.util.LinkedHashSet<>();
        for (String key : keys) {
            distinct.add(Keys.check(key));
        }
        List<String> all = List.copyOf(distinct);
        DeleteFailures failures = new DeleteFailures(all.size());
        for (int from = 0; from < all.size(); from += DELETE_BATCH) {
            io.stowage.Interruption.check();
            List<String> batch = all.subList(from, Math.min(all.size(), from + DELETE_BATCH));
            DeleteObjectsResponse response;
            try {
                response = s3.deleteObjects(DeleteObjectsRequest.builder().bucket(bucket)
                        .delete(Delete.builder().quiet(true).objects(batch.stream()
                                .map(key -> ObjectIdentifier.builder().key(prefix + key).build()).toList()).build())
                        .overrideConfiguration(o -> metadataCall.accept(o.addPlugin(LegacyMd5Plugin.create())))
                        .build());
            } catch (SdkException e) {
                failures.add(failure("delete", batch.get(0), e), all.size() - from);
                break;
            }
            for (S3Error error : response.errors()) {
                failures.add(deleteError(error), 1);
            }
        }
        failures.throwIfAny();
    }

    /** A key that a DeleteObjects answer reports as not deleted. */
    private RepositoryException deleteError(S3Error error) {
        String objectKey = String.valueOf(error.key());
        String key = objectKey.startsWith(prefix) ? objectKey.substring(prefix.length()) : objectKey;
        String code = error.code() == null ? "an unnamed error" : error.code();
        String reason = "AccessDenied".equals(code)
                ? "access denied (AccessDenied); HINT: check the credentials and the bucket policy"
                : code + (error.message() == null || error.message().isBlank() ? "" : " (" + error.message() + ")");
        return new RepositoryException("cannot delete '" + key + "' in repository '" + name + "' (" + location()
                + "): " + reason, null, TRANSIENT_DELETE_ERRORS.contains(code));
    }

    @Override
    public void check() throws IOException {
        try {
            s3.headBucket(HeadBucketRequest.builder().bucket(bucket).overrideConfiguration(metadataCall).build());
        } catch (SdkException e) {
            throw failure("reach the bucket", null, e);
        }
    }

    /**
     * Turns an SDK failure into one line that says what failed, where, and what the operator can do.
     *
     * @param key the repository key concerned, or null for the bucket itself
     */
    RepositoryException failure(String operation, String key, SdkException e) {
        return failure(operation, key, e, null);
    }

    /** @param callBound the whole-call bound of the call that failed, when the operation's name does not tell it */
    private RepositoryException failure(String operation, String key, SdkException e, Duration callBound) {
        Duration bound = timedOut(operation, e, callBound);
        if (bound != null) {
            // The SDK has already tried again within the call's bound: calling again would only wait as long again.
            return new RepositoryTimeoutException("repository '" + name + "' (" + location() + ") did not answer "
                    + "within " + bound.toSeconds() + " s (" + operation + (key == null ? "" : " '" + key + "'")
                    + "); HINT: check the S3 endpoint and the network, or raise stowage.repository." + name + "." + (bound.equals(timeouts.call())
                    ? "call" : bound.equals(timeouts.transfer()) ? "transfer" : bound.equals(timeouts.connect())
                    ? "connect" : "read") + "-timeout-seconds", e);
        }
        String reason;
        if (e instanceof NoSuchBucketException
                || (e instanceof AwsServiceException ase && ase.statusCode() == 404 && key == null)) {
            reason = "bucket '" + bucket + "' does not exist; HINT: create it or set " + ("s3".equals(name)
                    ? "STOWAGE_S3_BUCKET" : "stowage.repository." + name + ".bucket") + " to an existing bucket";
        } else if (e instanceof AwsServiceException ase && ase.statusCode() == 403) {
            reason = "access denied (" + errorCode(ase) + "); HINT: check the credentials and the bucket policy";
        } else if (e instanceof AwsServiceException ase && "BadDigest".equals(errorCode(ase))) {
            reason = "BadDigest (HTTP " + ase.statusCode() + "): S3 refused bytes that do not match the SHA-256 sent"
                    + " with them; HINT: they were damaged on the way; run it again";
        } else if (e instanceof AwsServiceException ase) {
            reason = errorCode(ase) + " (HTTP " + ase.statusCode() + ")";
        } else if (e instanceof SdkClientException && isChecksumMismatch(e)) {
            reason = "the bytes read do not match the checksum S3 stored with them (" + rootMessage(e)
                    + "); HINT: read it again; if it persists, the stored object is damaged";
        } else if (e instanceof SdkClientException && isMissingCredentials(e)) {
            reason = "no AWS credentials were found; HINT: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or "
                    + "AWS_PROFILE, or give the host an instance role";
        } else if (e instanceof SdkClientException) {
            reason = "cannot reach S3: " + rootMessage(e) + "; HINT: check AWS_ENDPOINT_URL_S3 and the network";
        } else {
            reason = rootMessage(e);
        }
        String what = key == null ? "" : " '" + key + "'";
        // Bytes damaged on the way up (BadDigest) are sent again by a retry; a stored object that reads back damaged
        // is not mended by reading it again at once.
        // Missing credentials do not come by waiting.
        boolean transientFailure = (e instanceof SdkClientException && !isChecksumMismatch(e)
                && !isMissingCredentials(e))
                || (e instanceof AwsServiceException ase && (ase.statusCode() >= 500 || ase.statusCode() == 429
                        || "BadDigest".equals(errorCode(ase))));
        return new RepositoryException("cannot " + operation + what + " in repository '" + name + "' ("
                + location() + "): " + reason, e, transientFailure);
    }

    /** The largest object whose PUT is bounded as a metadata call (by the call timeout). */
    static final int SMALL_OBJECT = 1024 * 1024;

    /** Operations made of metadata calls, bounded by the call timeout; the others are data transfers. */
    private static final java.util.Set<String> METADATA = java.util.Set.of("look up", "list", "delete",
            "reach the bucket");

    /**
     * The bound that {@code e} ran into, or null when it is not a timeout: the whole call's bound (the call or the
     * transfer timeout, by {@code operation}), the connect timeout, or the read timeout (no byte for that long).
     */
    private Duration timedOut(String operation, SdkException e, Duration callBound) {
        Duration whole = callBound != null ? callBound
                : METADATA.contains(operation) ? timeouts.call() : timeouts.transfer();
        if (e instanceof software.amazon.awssdk.core.exception.ApiCallTimeoutException) {
            return whole;
        }
        for (Throwable t = e; t != null; t = t.getCause() == t ? null : t.getCause()) {
            if (t instanceof software.amazon.awssdk.core.exception.ApiCallAttemptTimeoutException) {
                return whole;
            }
            if (t instanceof org.apache.http.conn.ConnectTimeoutException
                    || t instanceof java.net.SocketTimeoutException && String.valueOf(t.getMessage())
                    .toLowerCase(java.util.Locale.ROOT).contains("connect")) {
                return timeouts.connect();
            }
            if (t instanceof java.net.SocketTimeoutException) {
                return timeouts.read();
            }
        }
        return null;
    }

    /** The SDK's credential chain found nothing to sign with (its message is long: every provider it tried). */
    private static boolean isMissingCredentials(SdkException e) {
        return String.valueOf(e.getMessage()).startsWith("Unable to load credentials");
    }

    /** The SDK's verdict when the bytes of a GET do not match the checksum S3 returned with them. */
    private static boolean isChecksumMismatch(SdkException e) {
        return String.valueOf(e.getMessage()).contains("different checksum than expected");
    }

    private static String errorCode(AwsServiceException e) {
        if (e.awsErrorDetails() != null && e.awsErrorDetails().errorCode() != null) {
            return e.awsErrorDetails().errorCode();
        }
        return e.getClass().getSimpleName();
    }

    private static String rootMessage(Throwable e) {
        Throwable t = e;
        while (t.getCause() != null && t.getCause() != t) {
            t = t.getCause();
        }
        String message = t.getMessage() == null ? t.getClass().getSimpleName() : t.getMessage();
        return message.replaceAll("\\s+", " ");
    }

    /** The SHA-256 of {@code length} bytes of {@code bytes}, base64, as S3's checksum headers and fields carry it. */
    static String sha256(byte[] bytes, int length) {
        try {
            MessageDigest digest = MessageDigest.getInstance("SHA-256");
            digest.update(bytes, 0, length);
            return Base64.getEncoder().encodeToString(digest.digest());
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("SHA-256 is part of every Java runtime", e);
        }
    }

    /** The object's bytes, with an SDK failure while reading (a lost connection, a checksum mismatch) as one line. */
    private final class ReadFailures extends FilterInputStream {
        private final String key;

        ReadFailures(InputStream in, String key) {
            super(in);
            this.key = key;
        }

        @Override
        public int read() throws IOException {
            try {
                return super.read();
            } catch (SdkException e) {
                throw failure("read", key, e);
            }
        }

        @Override
        public int read(byte[] b, int off, int len) throws IOException {
            try {
                return super.read(b, off, len);
            } catch (SdkException e) {
                throw failure("read", key, e);
            }
        }

        @Override
        public void close() throws IOException {
            try {
                super.close();
            } catch (SdkException e) {
                throw failure("read", key, e);
            }
        }
    }

    /**
     * An output stream that sends what it is given to S3: one PUT when it all fits in one part, else a multipart
     * upload that is completed on {@link #complete()} and aborted if the stream is closed without completing.
     */
    private final class PartUploader extends OutputStream {
        private final String objectKey;
        private final byte[] part = new byte[partSize];
        private final List<CompletedPart> parts = new ArrayList<>();
        private int filled;
        private long total;
        private final StorageClass storageClass;
        private String uploadId;
        private boolean completed;
        /** The whole-call bound of the call being made. */
        volatile Duration bound = timeouts.transfer();

        PartUploader(String objectKey, StorageClass storageClass) {
            this.objectKey = objectKey;
            this.storageClass = storageClass;
        }

        @Override
        public void write(int b) {
            if (filled == part.length) {
                sendPart();
            }
            part[filled++] = (byte) b;
            total++;
        }

        @Override
        public void write(byte[] b, int off, int len) {
            while (len > 0) {
                if (filled == part.length) {
                    sendPart();
                }
                int n = Math.min(len, part.length - filled);
                System.arraycopy(b, off, part, filled, n);
                filled += n;
                off += n;
                len -= n;
                total += n;
            }
        }

        private void sendPart() {
            // A stop between parts: the copy fails here, and the unfinished upload is aborted on close.
            io.stowage.Interruption.check();
            if (uploadId == null) {
                CreateMultipartUploadRequest.Builder create = CreateMultipartUploadRequest.builder()
                        .bucket(bucket).key(objectKey).storageClass(storageClass);
                if (checksums) {
                    create.checksumAlgorithm(ChecksumAlgorithm.SHA256);
                }
                bound = timeouts.call();
                uploadId = s3.createMultipartUpload(create.overrideConfiguration(metadataCall).build()).uploadId();
            }
            int number = parts.size() + 1;
            UploadPartRequest.Builder request = UploadPartRequest.builder().bucket(bucket).key(objectKey)
                    .uploadId(uploadId).partNumber(number).contentLength((long) filled);
            CompletedPart.Builder completed = CompletedPart.builder().partNumber(number);
            if (checksums) {
                String checksum = sha256(part, filled);
                request.checksumSHA256(checksum);
                completed.checksumSHA256(checksum);
            }
            bound = timeouts.transfer();
            String etag = s3.uploadPart(request.overrideConfiguration(transferCall).build(), body()).eTag();
            parts.add(completed.eTag(etag).build());
            filled = 0;
        }

        /** The part's bytes; a retried request reads them again from the start. */
        private RequestBody body() {
            return RequestBody.fromInputStream(new ByteArrayInputStream(part, 0, filled), filled);
        }

        void complete() {
            if (uploadId == null) {
                PutObjectRequest.Builder request = PutObjectRequest.builder().bucket(bucket).key(objectKey)
                        .contentLength((long) filled).storageClass(storageClass);
                if (checksums) {
                    request.checksumSHA256(sha256(part, filled));
                }
                // A small object (a manifest, a checksum file, an audit line) is a metadata call; a larger one a
                // transfer.
                boolean small = filled <= SMALL_OBJECT;
                bound = small ? timeouts.call() : timeouts.transfer();
                s3.putObject(request.overrideConfiguration(small ? metadataCall : transferCall).build(), body());
            } else {
                if (filled > 0) {
                    sendPart();
                }
                bound = timeouts.transfer();
                s3.completeMultipartUpload(CompleteMultipartUploadRequest.builder().bucket(bucket).key(objectKey)
                        .uploadId(uploadId).multipartUpload(CompletedMultipartUpload.builder().parts(parts).build())
                        .overrideConfiguration(transferCall).build());
            }
            completed = true;
        }

        @Override
        public void close() {
            if (!completed && uploadId != null) {
                try {
                    s3.abortMultipartUpload(AbortMultipartUploadRequest.builder().bucket(bucket).key(objectKey)
                            .uploadId(uploadId).overrideConfiguration(metadataCall).build());
                } catch (SdkException e) {
                    // The upload stays invisible either way; a bucket lifecycle rule removes abandoned parts.
                }
            }
        }
    }
}
