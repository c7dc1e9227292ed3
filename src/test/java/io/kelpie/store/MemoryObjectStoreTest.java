package io.kelpie.store;

class MemoryObjectStoreTest extends ObjectStoreContract {
    @Override
    protected ObjectStore newStore() {
        return new MemoryObjectStore();
    }
}
