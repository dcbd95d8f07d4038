package io.stowage.engine;

import io.stowage.StowageException;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** The engines this Stowage has, by name: built once, in {@code io.stowage.runtime.EngineCatalog}. */
public final class Engines implements io.stowage.job.JobRegistry.Engines {
    private final Map<String, Engine> engines = new LinkedHashMap<>();

    public Engines(List<Engine> engines) {
        for (Engine engine : engines) {
            if (this.engines.putIfAbsent(engine.name(), engine) != null) {
                throw new IllegalArgumentException("engine " + engine.name() + " is registered twice");
            }
        }
    }

    /** The engine named {@code name}; an unknown one is a usage error naming those there are. */
    public Engine get(String name) {
        Engine engine = engines.get(name);
        if (engine == null) {
            throw StowageException.usage("unknown engine '" + name + "': this Stowage backs up "
                    + String.join(", ", engines.keySet()));
        }
        return engine;
    }

    @Override
    public List<String> names() {
        return List.copyOf(engines.keySet());
    }

    /** A job's method and parameters, checked against its engine. */
    @Override
    public void check(io.stowage.job.Job job) {
        Engine engine = get(job.engine());
        engine.capabilities().requireMethod(engine.name(), job);
        engine.validate(job);
    }

    public boolean has(String name) {
        return engines.containsKey(name);
    }

    public Collection<Engine> all() {
        return engines.values();
    }

    /** The engine whose source step is {@code step}, with the method it serves, or null. */
    public Map.Entry<Engine, String> bySourceStep(String step) {
        for (Engine engine : engines.values()) {
            String method = engine.sourceSteps().get(step);
            if (method != null) {
                return Map.entry(engine, method);
            }
        }
        return null;
    }
}
