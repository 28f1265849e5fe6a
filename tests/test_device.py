import torch

from nnlearn.device import pick_device


def test_pick_device_says_what_it_picked(capsys):
    device = pick_device()
    assert isinstance(device, torch.device)
    expected = "cuda" if torch.cuda.is_available() else (
        "mps" if torch.backends.mps.is_available() else "cpu")
    assert device.type == expected
    assert f"Using device: {expected}" in capsys.readouterr().out
    torch.ones(2, device=device)  # the device is usable
    assert pick_device(verbose=False) == device and capsys.readouterr().out == ""
