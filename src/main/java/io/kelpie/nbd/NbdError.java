package io.kelpie.nbd;

/** A request refused or failed: the errno the client gets and a message for its user and our log. */
public record NbdError(int errno, String message) {
    @Override
    public String toString() {
        return NbdConstants.errorName(errno) + ": " + message;
    }
}
