package io.kelpie.nbd;

/** An export opened for a connection's transmission phase; closed once when the connection ends. */
public interface NbdExport extends AutoCloseable {
    NbdExportInfo info();

    @Override
    void close();
}
