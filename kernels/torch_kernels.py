"""PyTorch: ATen ops release the GIL while they run, on CPU and while CUDA work is queued/synchronised."""

from __future__ import annotations

from gilsafe.kernels import installed

NAME = "torch"
RELEASES_GIL = "each tensor op's C++ body (CPU kernels and CUDA launches/synchronisation); not the Python between ops"
PACKAGES = ("torch",)  # what its kernels import
TUNED_CHUNK = 1 << 20


def available() -> tuple[bool, str]:
    return installed("torch")


def device_available(device: str) -> tuple[bool, str]:
    import torch

    if device == "cuda" and not torch.cuda.is_available():
        return False, "torch: no CUDA device"
    return True, ""


def pi_hits(n: int, seed: int, device: str = "cpu") -> int:
    """The talk's appendix form (slide 52): rand, mul, add, le, nonzero().size()[0]."""
    import torch

    x = torch.rand(n, dtype=torch.float64, device=device)
    y = torch.rand(n, dtype=torch.float64, device=device)
    rs = torch.add(torch.mul(x, x), torch.mul(y, y))
    ones = torch.ones(n, dtype=torch.float64, device=device)
    lss = torch.le(rs, ones)
    return int(torch.nonzero(lss).size()[0])


def pi_hits_tuned(n: int, seed: int, device: str = "cpu") -> int:
    """A private generator per call, float32 in chunks, counted with sum() (no index tensor)."""
    import torch

    generator = torch.Generator(device=device).manual_seed(seed)
    hits, done = 0, 0
    while done < n:
        m = min(TUNED_CHUNK, n - done)
        xy = torch.rand((2, m), generator=generator, device=device)
        hits += int((xy[0] * xy[0] + xy[1] * xy[1] <= 1.0).sum())
        done += m
    return hits


def count_ones(n: int, device: str = "cpu") -> int:
    import torch

    return int(torch.count_nonzero(torch.ones(n, dtype=torch.float64, device=device)))


def copy_in(array, device: str = "cpu"):
    """E9: NumPy array -> tensor on the device."""
    import torch

    return torch.from_numpy(array).to(device)


def copy_out(tensor):
    """E9: tensor -> NumPy array."""
    return tensor.cpu().numpy()


def synchronize(device: str) -> None:
    import torch

    if device == "cuda":
        torch.cuda.synchronize()
