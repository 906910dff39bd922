/**
 * The default balance λ of every method form, in one place: the method factories take their default λ
 * from here, and a run scales the unit-norm forms' λ to the projector's width (`widthScaledLambda`).
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

/**
 * Barlow Twins' published weight λ of the off-diagonal terms, the default of its batch-standardised
 * forms ("original", "a-identity") and the λ of its reference loss. Standardised features have no
 * width rule, so it is not in `UNIT_NORM_LAMBDA` and is never scaled.
 */
export const BARLOW_TWINS_BN_LAMBDA = 0.0051;
