package io.kelpie.gateway;

import java.time.Duration;

/**
 * The replicated gateway's time limits.
 *
 * @param budget    the most one client request may take, retries on new epochs and waits for a
 *                  refusing cluster included; then it fails
 * @param straggler once min-copies replicas stored a write, how long the others get before the
 *                  write is acknowledged without them (they are recorded as laggards)
 * @param readTry   how long a read waits for one replica before trying the next (the last one
 *                  gets the rest of the budget)
 * @param repair    timeout of a REPAIR_OBJ request (the receiver copies a whole object)
 */
public record GatewayTimeouts(Duration budget, Duration straggler, Duration readTry, Duration repair) {
    public static final GatewayTimeouts DEFAULT = new GatewayTimeouts(Duration.ofMillis(5000), Duration.ofMillis(1000),
            Duration.ofMillis(1500), Duration.ofSeconds(30));
}
