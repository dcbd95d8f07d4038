package io.stowage.pipeline;

import io.stowage.Secrets;
import java.util.Map;
import java.util.regex.Pattern;

/**
 * The environment of a tool Stowage starts: its own (inherited: PATH, HOME, locale, libpq's PG* settings), less
 * what only Stowage may read, plus what the tool is given (the job's libpq connection, PGPASSWORD among it). A
 * child's environment can be read by other processes of the same user and ends up in core dumps and crash
 * reports, so Stowage's own configuration (STOWAGE_*: the alert webhook, the routing key), the AWS SDK's (AWS_*:
 * the secret key, the session token), age's (AGE_*), variables named like secrets (another tool's password too:
 * REDISCLI_AUTH, MYSQL_PWD, unless it is this tool's own, given in {@code tool}), and any variable that holds a
 * secret Stowage knows (the job's password under another name) never reach it.
 */
public final class ChildEnvironment {
    private static final Pattern OWN = Pattern.compile("(STOWAGE|AWS|AGE)_.*");
    private static final Pattern SECRET_NAME = Pattern.compile(
            ".*(SECRET|TOKEN|PASSWORD|PASSPHRASE|API_?KEY|PRIVATE_?KEY|ROUTING_?KEY|WEBHOOK|CREDENTIAL).*"
                    // other tools' passwords: REDISCLI_AUTH, MYSQL_PWD
                    + "|.*_AUTH|.*_PWD",
            Pattern.CASE_INSENSITIVE);

    private ChildEnvironment() {
    }

    /** Turns {@code environment} (a ProcessBuilder's, inherited) into the tool's: secrets out, {@code tool} in. */
    public static void prepare(Map<String, String> environment, Map<String, String> tool) {
        environment.entrySet().removeIf(e -> OWN.matcher(e.getKey()).matches()
                || SECRET_NAME.matcher(e.getKey()).matches() || Secrets.contains(e.getValue()));
        environment.putAll(tool);
    }
}
