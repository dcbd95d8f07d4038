package io.stowage.runtime;

import io.stowage.catalog.Catalog;
import io.stowage.job.JobRegistry;
import io.stowage.repository.Repositories;

/**
 * What route steps and commands share, bound in Camel's registry as {@value #BEAN}: the jobs the routes define,
 * the repositories, and the catalog over them.
 */
public final class StowageServices {
    public static final String BEAN = "stowage";

    private final Repositories repositories;
    private final Catalog catalog;
    private volatile JobRegistry jobs;

    public StowageServices(Repositories repositories) {
        this.repositories = repositories;
        this.catalog = new Catalog(repositories.all());
    }

    public Repositories repositories() {
        return repositories;
    }

    public Catalog catalog() {
        return catalog;
    }

    public JobRegistry jobs() {
        if (jobs == null) {
            throw new IllegalStateException("jobs are known once the routes are loaded");
        }
        return jobs;
    }

    void jobs(JobRegistry jobs) {
        this.jobs = jobs;
    }

    /** For route filters: {@code ${bean:stowage?method=isConfigured('s3')}}. */
    public boolean isConfigured(String repository) {
        return repositories.isConfigured(repository);
    }
}
