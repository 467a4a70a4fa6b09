export { PreviewMaker, previewPath, type PreviewMakerOptions, type PreviewSource } from './previews';
export { renderQuicklook, bandSetOf, QUICKLOOK_MAX_PIXELS, type Quicklook, type UnitGrid } from './quicklook';
export { percentileStretch, type Stretch, type BandStretch } from './stretch';
export { previewSourceOf, previewHook, type FinishedUnit } from './hook';
export { attachPreviews, type HostPreviews, type PreviewHost } from './attach';
