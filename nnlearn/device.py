"""Pick the best torch device: CUDA, then Apple MPS, then CPU."""
from .validate import check_type


def pick_device(verbose=True):
    import torch

    check_type("verbose", verbose, bool, "True or False")

    if torch.cuda.is_available():
        device = torch.device("cuda")
        detail = torch.cuda.get_device_name(0)
    elif getattr(torch.backends, "mps", None) is not None and torch.backends.mps.is_available():
        device = torch.device("mps")
        detail = "Apple Metal"
    else:
        device = torch.device("cpu")
        detail = "no GPU found"
    if verbose:
        print(f"Using device: {device} ({detail})")
    return device
