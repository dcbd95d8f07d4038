package io.stowage.testing;

import java.io.InputStream;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.NavigableMap;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentSkipListMap;
import org.gaul.s3proxy.blobstore.BlobStore;
import org.gaul.s3proxy.blobstore.ForwardingBlobStore;
import org.gaul.s3proxy.blobstore.domain.MultipartUpload;
import software.amazon.awssdk.services.s3.model.CompleteMultipartUploadRequest;
import software.amazon.awssdk.services.s3.model.CompleteMultipartUploadResponse;
import software.amazon.awssdk.services.s3.model.CopyObjectRequest;
import software.amazon.awssdk.services.s3.model.CopyObjectResponse;
import software.amazon.awssdk.services.s3.model.DeleteObjectRequest;
import software.amazon.awssdk.services.s3.model.DeleteObjectResponse;
import software.amazon.awssdk.services.s3.model.DeleteObjectsRequest;
import software.amazon.awssdk.services.s3.model.DeleteObjectsResponse;
import software.amazon.awssdk.services.s3.model.HeadObjectRequest;
import software.amazon.awssdk.services.s3.model.HeadObjectResponse;
import software.amazon.awssdk.services.s3.model.ListObjectsV2Request;
import software.amazon.awssdk.services.s3.model.ListObjectsV2Response;
import software.amazon.awssdk.services.s3.model.ObjectStorageClass;
import software.amazon.awssdk.services.s3.model.PutObjectRequest;
import software.amazon.awssdk.services.s3.model.PutObjectResponse;
import software.amazon.awssdk.services.s3.model.S3Object;

/**
 * Pages of a flat listing (ListObjectsV2 without a delimiter) served from a sorted index, so that listing N objects a
 * page at a time costs about what it costs on S3, O(N), instead of O(N² / page size).
 *
 * <p>S3Proxy's filesystem store walks (and stats, and reads the extended attributes of) every object under the
 * prefix's directory for every page it serves, then skips to the continuation token: listing 200,000 objects in
 * pages of 1,000 walks the directory 200 times. Here the first flat listing of a bucket asks the store for all of it
 * at once (one walk, the same entries, ETags and sizes the store's own pages hold), and later pages are cut from that
 * index, which every write and delete through this store keeps up to date (a written object's entry from the store's
 * own metadata of it). Objects written into the store's directory behind its back after the first listing are not
 * seen. Listings with a delimiter, and everything else, go to the store as they are. For benchmarks
 * ({@code bench/expire.sh}); what it changes is said in their reports.
 */
public final class ListingIndexBlobStore extends ForwardingBlobStore {
    private final Map<String, NavigableMap<String, S3Object>> indexes = new ConcurrentHashMap<>();

    public ListingIndexBlobStore(BlobStore delegate) {
        super(delegate);
    }

    @Override
    public ListObjectsV2Response list(ListObjectsV2Request request) {
        if (request.delimiter() != null && !request.delimiter().isEmpty()) {
            return super.list(request);
        }
        NavigableMap<String, S3Object> objects = index(request.bucket());
        String prefix = request.prefix() == null ? "" : request.prefix();
        String marker = request.continuationToken() != null ? request.continuationToken() : request.startAfter();
        int max = request.maxKeys() == null ? 1000 : request.maxKeys();
        NavigableMap<String, S3Object> from = marker != null && marker.compareTo(prefix) >= 0
                ? objects.tailMap(marker, false) : objects.tailMap(prefix, true);
        List<S3Object> page = new ArrayList<>();
        String next = null;
        for (Map.Entry<String, S3Object> entry : from.entrySet()) {
            if (!entry.getKey().startsWith(prefix)) {
                break;
            }
            if (page.size() == max) {
                next = page.isEmpty() ? null : page.get(page.size() - 1).key();
                break;
            }
            page.add(entry.getValue());
        }
        return ListObjectsV2Response.builder().contents(page).commonPrefixes(List.of()).nextContinuationToken(next)
                .isTruncated(next != null).build();
    }

    private NavigableMap<String, S3Object> index(String bucket) {
        NavigableMap<String, S3Object> index = indexes.get(bucket);
        if (index != null) {
            return index;
        }
        synchronized (this) {
            index = indexes.get(bucket);
            if (index == null) {
                index = new ConcurrentSkipListMap<>();
                // No maxKeys: the store's whole listing in one walk.
                for (S3Object object : super.list(ListObjectsV2Request.builder().bucket(bucket).build()).contents()) {
                    index.put(object.key(), object);
                }
                indexes.put(bucket, index);
            }
            return index;
        }
    }

    /** After a write: the object's entry as the store describes it now (or none, when it is gone again). */
    private synchronized void written(String bucket, String key) {
        NavigableMap<String, S3Object> index = indexes.get(bucket);
        if (index == null) {
            return; // the first listing will walk the store
        }
        HeadObjectResponse head = delegate().blobMetadataIfPresent(HeadObjectRequest.builder().bucket(bucket)
                .key(key).build());
        if (head == null) {
            index.remove(key);
            return;
        }
        index.put(key, S3Object.builder().key(key).eTag(head.eTag()).lastModified(head.lastModified())
                .size(head.contentLength()).storageClass(head.storageClass() == null ? ObjectStorageClass.STANDARD
                        : ObjectStorageClass.fromValue(head.storageClassAsString())).build());
    }

    private synchronized void deleted(String bucket, Collection<String> keys) {
        NavigableMap<String, S3Object> index = indexes.get(bucket);
        if (index != null) {
            keys.forEach(index::remove);
        }
    }

    @Override
    public PutObjectResponse putBlob(PutObjectRequest request, InputStream input) {
        PutObjectResponse response = super.putBlob(request, input);
        written(request.bucket(), request.key());
        return response;
    }

    @Override
    public CopyObjectResponse copyBlob(CopyObjectRequest request) {
        CopyObjectResponse response = super.copyBlob(request);
        written(request.destinationBucket(), request.destinationKey());
        return response;
    }

    @Override
    public CompleteMultipartUploadResponse completeMultipartUpload(MultipartUpload upload,
                                                                   CompleteMultipartUploadRequest request) {
        CompleteMultipartUploadResponse response = super.completeMultipartUpload(upload, request);
        written(request.bucket(), request.key());
        return response;
    }

    @Override
    public DeleteObjectResponse removeBlob(DeleteObjectRequest request) {
        DeleteObjectResponse response = super.removeBlob(request);
        written(request.bucket(), request.key());
        return response;
    }

    @Override
    public DeleteObjectsResponse removeBlobs(DeleteObjectsRequest request) {
        DeleteObjectsResponse response = delegate().removeBlobs(request);
        Set<String> failed = new HashSet<>();
        response.errors().forEach(error -> failed.add(error.key()));
        List<String> gone = new ArrayList<>();
        request.delete().objects().forEach(object -> {
            if (!failed.contains(object.key())) {
                gone.add(object.key());
            }
        });
        deleted(request.bucket(), gone);
        return response;
    }
}
