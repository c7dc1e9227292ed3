package io.kelpie.cluster;

import java.io.DataInput;
import java.io.DataOutput;
import java.io.IOException;
import java.util.List;

/**
 * What {@link OrderedDriver} needs from a group communication system: a view of the live
 * endpoints, a totally ordered multicast delivered to every endpoint including the sender, and
 * unicast. Addresses are opaque values with equals/hashCode.
 */
interface Transport {

    interface Handler {
        void ordered(Object from, byte[] message);

        void unicast(Object from, byte[] message);

        void view(List<Object> members);
    }

    /** Connects; the handler may be called from any thread, but never concurrently for ordered messages. */
    void start(Handler handler) throws Exception;

    Object self();

    List<Object> view();

    void multicast(byte[] message) throws Exception;

    void unicast(Object to, byte[] message) throws Exception;

    void writeAddress(Object address, DataOutput out) throws IOException;

    Object readAddress(DataInput in) throws IOException;

    void close();

    /** Stops without saying goodbye, as a killed process would (tests). */
    default void kill() {
        close();
    }
}
