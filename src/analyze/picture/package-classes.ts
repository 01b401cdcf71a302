/**
 * A tile's class in the `package` dimension of the inspect picture: an index into the picture's
 * packages, or one of these. Apart from package-picture.ts so that the page's script bundles the
 * numbers without the package analysis.
 */

/** A file of the final view no package owns. */
export const NO_PACKAGE = -1;
/** A file of a package smaller than the listed ones. */
export const UNLISTED_PACKAGE = -2;
/** Bytes hidden in layers: in no package of the final view. */
export const HIDDEN_BYTES = -3;
