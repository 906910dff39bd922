"""Why unigrad keeps F in float32: the official UniGrad code computes F under autocast, so the batch
correlation and the moving average F <- rho*F + (1-rho)*F_batch are rounded to float16 at every step.
This script runs both (and float32) against a float64 reference on unit-norm features whose covariance
spans two decades of eigenvalues and rotates slowly, and prints how far each is from the reference.

Usage: OMP_NUM_THREADS=1 /usr/bin/python3 scripts/f_precision.py   (Debian's python3-torch)
"""
import torch

torch.manual_seed(0)
d, B, steps, rho = 128, 256, 2000, 0.99
scales = torch.logspace(0, -2, d, dtype=torch.float64)  # eigen-spectrum over two decades
Q = torch.linalg.qr(torch.randn(d, d, dtype=torch.float64))[0]
A = torch.randn(d, d, dtype=torch.float64)
R = torch.matrix_exp(0.002 * (A - A.T))  # a slow rotation of the covariance, step by step
F64 = F32 = F16 = None
for k in range(steps):
    Q = R @ Q
    v = torch.nn.functional.normalize((torch.randn(B, d, dtype=torch.float64) * scales.sqrt()) @ Q.T, dim=1)
    t64 = v.T @ v / B
    t32 = (v.float().T @ v.float()) / B
    t16 = ((v.half().float().T @ v.half().float()) / B).half()  # fp16 inputs, fp32 accumulation, fp16 out
    if F64 is None:
        F64, F32, F16 = t64, t32, t16
    else:
        F64 = rho * F64 + (1 - rho) * t64
        F32 = rho * F32 + (1 - rho) * t32
        F16 = rho * F16 + (1 - rho) * t16  # a half tensor times a Python float stays half, as in the official code
e64 = torch.linalg.eigvalsh(F64)


def frobenius(F):
    return ((F.double() - F64).norm() / F64.norm()).item()


def eigen(F):
    return ((torch.linalg.eigvalsh(F.double()) - e64).abs() / e64.abs()).max().item()


print(f"relative Frobenius error of F after {steps} steps: float16 {frobenius(F16):.2e}, float32 {frobenius(F32):.2e}")
print(f"largest relative eigenvalue error: float16 {eigen(F16):.2e}, float32 {eigen(F32):.2e} "
      f"(smallest eigenvalue {e64[0].item():.2e})")
