package io.kelpie.cluster;

import io.kelpie.common.ClusterSecret;
import org.jgroups.Address;
import org.jgroups.Message;
import org.jgroups.conf.ClassConfigurator;
import org.jgroups.protocols.EncryptHeader;
import org.jgroups.protocols.SYM_ENCRYPT;
import org.jgroups.util.MessageBatch;
import org.jgroups.util.Util;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import javax.crypto.AEADBadTagException;
import javax.crypto.Cipher;
import javax.crypto.spec.GCMParameterSpec;
import javax.crypto.spec.SecretKeySpec;
import java.security.Key;
import java.util.Arrays;
import java.util.Set;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.ConcurrentHashMap;

/**
 * JGroups' SYM_ENCRYPT with a key derived from the cluster secret, sealing with AES-256-GCM.
 * With SERIALIZE directly above it (the JGroups way to encrypt headers too) every message it sees
 * has a payload holding the whole original message, so GCM's tag authenticates all of it: a node
 * without the key can neither read the group's traffic nor forge a join, a view or an ordered
 * message. Stock SYM_ENCRYPT passes its IV as an IvParameterSpec, which only unauthenticated
 * modes (CBC) take; the two methods that run the cipher are replaced to use GCM's parameters.
 *
 * <p>Messages from a node with another secret (another key version in the header), none (no
 * header) or a forged tag are dropped, with one line per such node rather than JGroups' error
 * with a stack trace per message.
 */
final class SealedEncrypt extends SYM_ENCRYPT {
    private static final Logger log = LoggerFactory.getLogger(SealedEncrypt.class);
    static final String ALGORITHM = "AES/GCM/NoPadding";
    private static final int IV_BYTES = 12;
    private static final int TAG_BITS = 128;
    private static final int MAX_REMEMBERED = 1024;

    private final Set<Address> refused = ConcurrentHashMap.newKeySet();

    SealedEncrypt(ClusterSecret secret) {
        setId(ClassConfigurator.getProtocolId(SYM_ENCRYPT.class)); // headers under SYM_ENCRYPT's registered id
        setSecretKey(new SecretKeySpec(secret.key("kelpie jgroups aes-gcm v1"), "AES"));
        symAlgorithm(ALGORITHM);
        symIvLength(IV_BYTES); // a fresh random 96-bit IV per message, as GCM wants
    }

    @Override
    public Object up(Message msg) {
        return sealedByUs(msg) ? super.up(msg) : null;
    }

    @Override
    public void up(MessageBatch batch) {
        batch.removeIf(m -> !sealedByUs(m), false);
        if (!batch.isEmpty()) {
            super.up(batch);
        }
    }

    /** Whether {@code msg} says it was sealed with our key; otherwise logs its sender once and drops it. */
    private boolean sealedByUs(Message msg) {
        EncryptHeader hdr = msg.getHeader(getId());
        if (hdr == null) {
            refuse(msg.getSrc(), "its messages are not sealed (it runs without a cluster secret)");
            return false;
        }
        if (!Arrays.equals(hdr.version(), symVersion())) {
            refuse(msg.getSrc(), "cluster secret does not match");
            return false;
        }
        return true;
    }

    /** How many senders were refused (tests). */
    int refusedSenders() {
        return refused.size();
    }

    private void refuse(Address from, String why) {
        if (refused.size() >= MAX_REMEMBERED) {
            refused.clear();
        }
        if (from != null && refused.add(from)) {
            log.warn("cluster member {} refused: {}", from, why);
        }
    }

    @Override
    protected byte[] code(byte[] buf, int offset, int length, byte[] iv, boolean decode) throws Exception {
        BlockingQueue<Cipher> pool = decode ? decoding_ciphers : encoding_ciphers;
        Cipher cipher = pool.take();
        try {
            return run(cipher, decode, secret_key, iv, buf, offset, length);
        } finally {
            pool.offer(cipher);
        }
    }

    @Override
    protected Message _decrypt(Cipher cipher, Key key, Message msg, EncryptHeader hdr) throws Exception {
        if (!msg.hasPayload()) {
            return null; // SERIALIZE gives every message of ours a payload: an empty one is forged
        }
        byte[] plain;
        try {
            // a batch brings the cipher it took from the pool: taking a second one could deadlock the pool
            plain = cipher != null ? run(cipher, true, key, hdr.iv(), msg.getArray(), msg.getOffset(), msg.getLength())
                    : code(msg.getArray(), msg.getOffset(), msg.getLength(), hdr.iv(), true);
        } catch (AEADBadTagException e) {
            refuse(msg.getSrc(), "a message did not authenticate (forged or damaged)");
            return null;
        }
        return hdr.needsDeserialization() ? Util.messageFromBuffer(plain, 0, plain.length)
                : msg.setArray(plain, 0, plain.length);
    }

    private static byte[] run(Cipher cipher, boolean decode, Key key, byte[] iv, byte[] buf, int offset, int length)
            throws Exception {
        cipher.init(decode ? Cipher.DECRYPT_MODE : Cipher.ENCRYPT_MODE, key, new GCMParameterSpec(TAG_BITS, iv));
        return cipher.doFinal(buf, offset, length);
    }
}
