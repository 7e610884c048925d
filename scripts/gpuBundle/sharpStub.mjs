// Stands in for `sharp` in the bench:gpu bundle (scripts/gpuBundle/pack.mjs). transformers.js imports
// sharp at load for image models, and throws at load when the import is falsy; a causal LM never
// calls it, and sharp's native libvips would add tens of MB to a bundle capped at 60. So: a function
// that says so if anything ever calls it.
export default function sharp() {
  throw new Error('sharp (image decoding) is not part of the bench:gpu bundle');
}
