/** Seeded global batches shared by the workers and the single-process references. */
import * as T from "../_all.ts";

/** Shapes of the scenarios' tensors (the global batch is 8 samples). */
export const SCENARIO_SHAPES = { x: [8, 5], weight: [3, 5], images: [8, 3, 2, 2] } as const;

/** The global batch: x [8, 5], targets y [8, 3], images [8, 3, 2, 2], loss weights c like images. */
export function globalBatch(): { x: T.Tensor; y: T.Tensor; images: T.Tensor; c: T.Tensor } {
  T.manualSeed(7);
  const x = T.randn(SCENARIO_SHAPES.x);
  const y = T.randn([8, 3]);
  const images = T.randn(SCENARIO_SHAPES.images).mul(2).add(1);
  const c = T.randn(SCENARIO_SHAPES.images);
  return { x, y, images, c };
}
