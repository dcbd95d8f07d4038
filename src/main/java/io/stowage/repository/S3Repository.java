package io.stowage.repository;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import software.amazon.awssdk.awscore.exception.AwsServiceException;
import software.amazon.awssdk.core.exception.SdkClientException;
import software.amazon.awssdk.core.exception.SdkException;
import software.amazon.awssdk.core.sync.RequestBody;
import software.amazon.awssdk.services.s3.S3Client;
import software.amazon.awssdk.services.s3.model.AbortMultipartUploadRequest;
import software.amazon.awssdk.services.s3.model.CompleteMultipartUploadRequest;
import software.amazon.awssdk.services.s3.model.CompletedMultipartUpload;
import software.amazon.awssdk.services.s3.model.CompletedPart;
import software.amazon.awssdk.services.s3.model.CreateMultipartUploadRequest;
import software.amazon.awssdk.services.s3.model.DeleteObjectRequest;
import software.amazon.awssdk.services.s3.model.GetObjectRequest;
import software.amazon.awssdk.services.s3.model.HeadBucketRequest;
import software.amazon.awssdk.services.s3.model.HeadObjectRequest;
import software.amazon.awssdk.services.s3.model.ListObjectsV2Request;
import software.amazon.awssdk.services.s3.model.NoSuchBucketException;
import software.amazon.awssdk.services.s3.model.NoSuchKeyException;
import software.amazon.awssdk.services.s3.model.PutObjectRequest;
import software.amazon.awssdk.services.s3.model.S3Object;
import software.amazon.awssdk.services.s3.model.UploadPartRequest;

/**
 * A repository in an S3 bucket under a key prefix. Atomicity comes from S3 itself: a single PUT, or a multipart
 * upload that only becomes an object when it is completed (and is aborted when a part fails), is visible whole or
 * not at all. Streams of unknown length are cut into parts of {@code partSize} bytes, so memory stays bounded by one
 * part whatever the object's size.
 */
public final class S3Repository implements Repository {
    /** S3's smallest part size for every part but the last. */
    public static final int MIN_PART_SIZE = 5 * 1024 * 1024;

    private final String name;
    private final S3Client s3;
    private final String bucket;
    private final String prefix;
    private final int partSize;

    public S3Repository(String name, S3Client s3, String bucket, String prefix, int partSize) {
        this.name = name;
        this.s3 = s3;
        this.bucket = bucket;
        this.prefix = normalizePrefix(prefix);
        this.partSize = Math.max(partSize, MIN_PART_SIZE);
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

    /** The full S3 key of a repository key: the prefix, then the key. */
    public String objectKey(String key) {
        return prefix + Keys.check(key);
    }

    @Override
    public long write(String key, ObjectWriter writer) throws IOException {
        String objectKey = objectKey(key);
        try (PartUploader uploader = new PartUploader(objectKey)) {
            writer.writeTo(uploader);
            uploader.complete();
            return uploader.total;
        } catch (SdkException e) {
            throw failure("write", key, e);
        }
    }

    @Override
    public void upload(String key, Path file) throws IOException {
        write(key, out -> java.nio.file.Files.copy(file, out));
    }

    @Override
    public InputStream open(String key) throws IOException {
        try {
            return s3.getObject(GetObjectRequest.builder().bucket(bucket).key(objectKey(key)).build());
        } catch (NoSuchKeyException e) {
            throw new ObjectNotFoundException(name, key);
        } catch (SdkException e) {
            throw failure("read", key, e);
        }
    }

    @Override
    public boolean exists(String key) throws IOException {
        try {
            s3.headObject(HeadObjectRequest.builder().bucket(bucket).key(objectKey(key)).build());
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
            ListObjectsV2Request request = ListObjectsV2Request.builder().bucket(bucket).prefix(prefix + keyPrefix).build();
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
    public void delete(String key) throws IOException {
        try {
            s3.deleteObject(DeleteObjectRequest.builder().bucket(bucket).key(objectKey(key)).build());
        } catch (NoSuchKeyException e) {
            // already gone
        } catch (SdkException e) {
            throw failure("delete", key, e);
        }
    }

    @Override
    public void check() throws IOException {
        try {
            s3.headBucket(HeadBucketRequest.builder().bucket(bucket).build());
        } catch (SdkException e) {
            throw failure("reach the bucket", null, e);
        }
    }

    /**
     * Turns an SDK failure into one line that says what failed, where, and what the operator can do.
     *
     * @param key the repository key concerned, or null for the bucket itself
     */
    public RepositoryException failure(String operation, String key, SdkException e) {
        String reason;
        if (e instanceof NoSuchBucketException
                || (e instanceof AwsServiceException ase && ase.statusCode() == 404 && key == null)) {
            reason = "bucket '" + bucket + "' does not exist; HINT: create it or set STOWAGE_S3_BUCKET to an existing bucket";
        } else if (e instanceof AwsServiceException ase && ase.statusCode() == 403) {
            reason = "access denied (" + errorCode(ase) + "); HINT: check the credentials and the bucket policy";
        } else if (e instanceof AwsServiceException ase) {
            reason = errorCode(ase) + " (HTTP " + ase.statusCode() + ")";
        } else if (e instanceof SdkClientException) {
            reason = "cannot reach S3: " + rootMessage(e) + "; HINT: check AWS_ENDPOINT_URL_S3 and the network";
        } else {
            reason = rootMessage(e);
        }
        String what = key == null ? "" : " '" + key + "'";
        boolean transientFailure = e instanceof SdkClientException
                || (e instanceof AwsServiceException ase && (ase.statusCode() >= 500 || ase.statusCode() == 429));
        return new RepositoryException("cannot " + operation + what + " in repository '" + name + "' ("
                + location() + "): " + reason, e, transientFailure);
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
        private String uploadId;
        private boolean completed;

        PartUploader(String objectKey) {
            this.objectKey = objectKey;
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
            if (uploadId == null) {
                uploadId = s3.createMultipartUpload(CreateMultipartUploadRequest.builder()
                        .bucket(bucket).key(objectKey).build()).uploadId();
            }
            int number = parts.size() + 1;
            String etag = s3.uploadPart(UploadPartRequest.builder().bucket(bucket).key(objectKey)
                    .uploadId(uploadId).partNumber(number).contentLength((long) filled).build(),
                    RequestBody.fromInputStream(new java.io.ByteArrayInputStream(part, 0, filled), filled)).eTag();
            parts.add(CompletedPart.builder().partNumber(number).eTag(etag).build());
            filled = 0;
        }

        void complete() {
            if (uploadId == null) {
                s3.putObject(PutObjectRequest.builder().bucket(bucket).key(objectKey).contentLength((long) filled).build(),
                        RequestBody.fromInputStream(new java.io.ByteArrayInputStream(part, 0, filled), filled));
            } else {
                if (filled > 0) {
                    sendPart();
                }
                s3.completeMultipartUpload(CompleteMultipartUploadRequest.builder().bucket(bucket).key(objectKey)
                        .uploadId(uploadId).multipartUpload(CompletedMultipartUpload.builder().parts(parts).build())
                        .build());
            }
            completed = true;
        }

        @Override
        public void close() {
            if (!completed && uploadId != null) {
                try {
                    s3.abortMultipartUpload(AbortMultipartUploadRequest.builder().bucket(bucket).key(objectKey)
                            .uploadId(uploadId).build());
                } catch (SdkException e) {
                    // The upload stays invisible either way; a bucket lifecycle rule removes abandoned parts.
                }
            }
        }
    }
}
