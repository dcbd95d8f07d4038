package io.stowage.engine;

/** The kinds of restore an engine may offer for a method, with the command-line option that asks for each. */
public enum RestoreKind {
    /** Into a database of the job's server ({@code --target-database}). */
    DATABASE("into a database (--target-database)"),
    /** Into a data directory, optionally started ({@code --target-datadir}, {@code --start}). */
    DATA_DIRECTORY("into a data directory (--target-datadir)"),
    /** One table ({@code --table}). */
    TABLE("one table (--table)"),
    /** To a point in time between backups ({@code --time}). */
    POINT_IN_TIME("to a point in time (--time)");

    private final String description;

    RestoreKind(String description) {
        this.description = description;
    }

    public String describe() {
        return description;
    }
}
