package io.stowage.cli;

import io.stowage.Secrets;
import io.stowage.StowageException;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.Locale;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * The top-level command: global options, and the subcommands of the command-line contract. Its standard help options
 * are inherited, so that every command answers {@code --help}.
 */
@Command(name = "stowage", mixinStandardHelpOptions = true, scope = CommandLine.ScopeType.INHERIT,
        versionProvider = StowageCommand.Version.class,
        description = "Database backup and recovery: backups, catalog and restores, as Camel routes you can edit.",
        subcommands = {RunCommand.class, CheckCommand.class, BackupCommand.class, ListCommand.class,
                RestoreCommand.class, VerifyCommand.class, SyncCommand.class, ExpireCommand.class,
                PinCommand.class, UnpinCommand.class})
public final class StowageCommand implements Runnable {

    @Option(names = "--config", paramLabel = "FILE", defaultValue = "application.properties",
            description = "Configuration file (default: ${DEFAULT-VALUE} in the working directory); routes are read "
                    + "from routes/ beside it.")
    Path config;

    @Option(names = "--verbose", description = "Log what happens, and print stack traces with errors.")
    boolean verbose;

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Override
    public void run() {
        throw new CommandLine.ParameterException(spec.commandLine(), "a command is required: "
                + String.join(", ", spec.subcommands().keySet()));
    }

    PrintWriter out() {
        return spec.commandLine().getOut();
    }

    PrintWriter err() {
        return spec.commandLine().getErr();
    }

    /** Log levels: quiet for commands (their output is the result), informative for the service or --verbose. */
    void configureLogging(boolean service) {
        String app = verbose ? "DEBUG" : service ? "INFO" : "WARN";
        String root = verbose ? "INFO" : service ? "WARN" : "OFF";
        System.setProperty("stowage.log.app", app);
        System.setProperty("stowage.log.root", root);
        System.setProperty(io.stowage.runtime.LogLinePrefix.COMMAND, Boolean.toString(!service && !verbose));
        org.slf4j.ILoggerFactory factory = org.slf4j.LoggerFactory.getILoggerFactory();
        if (factory instanceof ch.qos.logback.classic.LoggerContext context) {
            context.getLogger("io.stowage").setLevel(ch.qos.logback.classic.Level.toLevel(app));
            context.getLogger(org.slf4j.Logger.ROOT_LOGGER_NAME).setLevel(ch.qos.logback.classic.Level.toLevel(root));
        }
    }

    public static CommandLine commandLine(PrintWriter out, PrintWriter err) {
        CommandLine commandLine = new CommandLine(new StowageCommand());
        commandLine.setOut(out);
        commandLine.setErr(err);
        commandLine.setCaseInsensitiveEnumValuesAllowed(true);
        // Usage help is plain text: the output streams escape control characters, colours included.
        commandLine.setColorScheme(CommandLine.Help.defaultColorScheme(CommandLine.Help.Ansi.OFF));
        commandLine.setParameterExceptionHandler((exception, args) -> {
            CommandLine failed = exception.getCommandLine();
            failed.getErr().println("error: " + io.stowage.TerminalText.line(usageError(exception, failed))
                    + " (see 'stowage " + (failed.getCommandName().equals("stowage") ? ""
                    : failed.getCommandName() + " ") + "--help')");
            return StowageException.USAGE;
        });
        commandLine.setExecutionExceptionHandler((exception, failed, parseResult) -> {
            StowageCommand top = failed.getParent() == null ? failed.getCommand()
                    : (StowageCommand) failed.getParent().getCommand();
            return report(exception, failed.getErr(), top.verbose);
        });
        return commandLine;
    }

    /** Prints one {@code error: } line (and the stack trace with --verbose); returns the exit status. */
    static int report(Throwable exception, PrintWriter err, boolean verbose) {
        err.println("error: " + io.stowage.Failures.describe(exception));
        if (verbose) {
            java.io.StringWriter trace = new java.io.StringWriter();
            exception.printStackTrace(new PrintWriter(trace));
            err.print(Secrets.mask(trace.toString()));
        }
        err.flush();
        return io.stowage.Failures.exitCode(exception);
    }

    /**
     * A usage error in the contract's words: an unknown command named as such, picocli's own messages (which start
     * with a capital) in lowercase.
     */
    private static String usageError(CommandLine.ParameterException exception, CommandLine failed) {
        if (exception instanceof CommandLine.UnmatchedArgumentException unmatched && failed.getParent() == null
                && !unmatched.getUnmatched().isEmpty() && !unmatched.getUnmatched().get(0).startsWith("-")) {
            return "unknown command '" + unmatched.getUnmatched().get(0) + "'; HINT: the commands are "
                    + String.join(", ", failed.getSubcommands().keySet());
        }
        return lowerFirst(exception.getMessage());
    }

    private static String lowerFirst(String message) {
        if (message == null || message.isEmpty()) {
            return "bad usage";
        }
        return message.substring(0, 1).toLowerCase(Locale.ROOT) + message.substring(1);
    }

    /** The version from the jar's manifest. */
    static final class Version implements CommandLine.IVersionProvider {
        @Override
        public String[] getVersion() {
            String version = StowageCommand.class.getPackage().getImplementationVersion();
            return new String[] {"stowage " + (version == null ? "development build" : version)};
        }
    }
}
