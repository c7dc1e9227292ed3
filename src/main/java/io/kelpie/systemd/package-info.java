/**
 * The two systemd protocols a service speaks, without libsystemd: readiness and watchdog
 * notifications ({@link SdNotify}, sd_notify(3)) and inherited listening sockets
 * ({@link SdListenFds}, sd_listen_fds(3)). Knows no Kelpie type.
 */
package io.kelpie.systemd;
