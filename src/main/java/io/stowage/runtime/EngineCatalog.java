package io.stowage.runtime;

import io.stowage.engine.Engines;
import java.util.List;

/** The one place engines are registered: each engine is one line here, everything else asks {@link Engines}. */
public final class EngineCatalog {
    private EngineCatalog() {
    }

    public static Engines engines() {
        return new Engines(List.of(
                new io.stowage.engine.postgresql.PostgresqlEngine(),
                new io.stowage.engine.redis.RedisEngine()));
    }
}
