package io.kelpie.frontend;

import io.kelpie.nbd.NbdReply;
import io.kelpie.nbd.NbdRequest;
import io.kelpie.nbd.NbdSession;
import io.kelpie.vdi.Vdi;

import java.util.List;
import java.util.concurrent.CompletableFuture;

/**
 * Executes one validated request type against a VDI. Completes with the replies to send (owned by
 * the caller) or exceptionally; failures become error replies in {@link NbdTransmissionHandler}.
 * The request (and a WRITE's payload) stays valid until the future completes.
 */
interface NbdCommand {
    CompletableFuture<List<NbdReply>> execute(NbdRequest req, NbdSession session, Vdi vdi);
}
