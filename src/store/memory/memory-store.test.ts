import { runStoreContract } from '../../testing/store-contract.ts';
import { createMemoryStore } from './memory-store.ts';

runStoreContract('memory', () => ({ store: createMemoryStore(), cleanup: () => {} }));
