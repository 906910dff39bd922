/**
 * The balance λ of every form whose negative gradient is built from unit-norm features, in one table:
 * the method factories take their default λ from it, and a run scales it to the projector's width
 * (`widthScaledLambda`).
 *
 * @module
 */

/**
 * The balance λ at the paper's projector width d = 2048 of every form whose negative gradient is built
 * from unit-norm features (a correlation of trace 1), by `"<method>/<form>"`. Their λ belongs to
 * d = 2048: the mean eigenvalue of λ·F is λ/d, so at another width the same balance is λ·d/2048
 * (`widthScaledLambda`). The batch-standardised and contrastive forms have no such λ.
 */
export const UNIT_NORM_LAMBDA: Readonly<Record<string, number>> = Object.freeze({
  "unigrad/unified": 100,
  "byol/unified": 100,
  "simsiam/unified": 100,
  "barlow-twins/l2": 50,
  "vicreg/l2": 100,
});
