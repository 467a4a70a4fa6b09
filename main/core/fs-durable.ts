/**
 * Moved to main/common/atomic-write.ts (the neutral base shared with the emulator). Kept as a re-export
 * only for modules not yet switched to it; import from main/common instead.
 */
export { syncDir, writePrivateFileSync } from '../common/atomic-write';
