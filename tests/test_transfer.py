"""Chapter 10, transfer learning: parameter counts against sum(p.numel()), freezing, parameter
groups against torch.optim, few-shot sampling, the three adaptation modes, PCA against scikit-learn."""
import numpy as np
import pytest
import torch
from sklearn.decomposition import PCA

from nnlearn.transfer import adapt, body_features, count_parameters, few_shot, freeze_all_but, make_net, \
    param_groups, pca_2d


def test_make_net_layout_and_counts():
    model = make_net(10, [8, 6], 4, seed=0)
    assert [name for name, _ in model.named_children()] == ["body", "head"]
    n_all = (10 * 8 + 8) + (8 * 6 + 6) + (6 * 4 + 4)
    assert count_parameters(model) == count_parameters(model, trainable=False) == n_all \
        == sum(p.numel() for p in model.parameters())
    assert torch.equal(make_net(10, [8, 6], 4, seed=0)[0][0].weight, model.body[0].weight)
    assert not torch.equal(make_net(10, [8, 6], 4, seed=1)[0][0].weight, model.body[0].weight)


def test_freeze_all_but_the_head():
    model = make_net(10, [8, 6], 4, seed=0)
    n = freeze_all_but(model, "head")
    assert n == 6 * 4 + 4 == sum(p.numel() for p in model.parameters() if p.requires_grad)
    assert count_parameters(model, trainable=False) == (10 * 8 + 8) + (8 * 6 + 6) + n
    assert all(not p.requires_grad for p in model.body.parameters())
    assert freeze_all_but(model, "body") == (10 * 8 + 8) + (8 * 6 + 6)          # unfreezes what it keeps
    assert all(not p.requires_grad for p in model.head.parameters())
    with pytest.raises(ValueError, match="head"):
        freeze_all_but(model, "classifier")


def test_param_groups_step_like_two_optimizers():
    """One SGD step with the two groups equals the body stepped at lr_body and the head at lr_head."""
    torch.manual_seed(0)
    X, y = torch.randn(9, 10), torch.randint(0, 4, (9,))
    a, b = make_net(10, [8], 4, seed=0), make_net(10, [8], 4, seed=0)
    opt = torch.optim.SGD(param_groups(a, "head", 0.01, 0.5))
    torch.nn.functional.cross_entropy(a(X), y).backward()
    opt.step()
    torch.nn.functional.cross_entropy(b(X), y).backward()
    with torch.no_grad():
        for module, lr in ((b.body, 0.01), (b.head, 0.5)):
            for p in module.parameters():
                p -= lr * p.grad
    for p, q in zip(a.parameters(), b.parameters()):
        torch.testing.assert_close(p, q)


def test_few_shot_draws_n_per_class_without_replacement():
    y = np.repeat(np.arange(3), [5, 9, 4])
    idx = few_shot(y, 4, np.random.default_rng(0))
    assert len(np.unique(idx)) == 12 and np.array_equal(np.bincount(y[idx]), [4, 4, 4])
    with pytest.raises(ValueError, match="n_per_class"):
        few_shot(y, 5, np.random.default_rng(0))


def test_adapt_modes():
    rng = np.random.default_rng(0)
    X = rng.standard_normal((30, 10)).astype(np.float32)
    y = rng.integers(0, 3, size=30)
    source = make_net(10, [8], 5, seed=0)
    before = {k: v.clone() for k, v in source.state_dict().items()}
    feat = adapt(source, X, y, 3, "features", epochs=5, lr=0.05)
    fine = adapt(source, X, y, 3, "finetune", epochs=5, lr=0.05)
    scratch = adapt(source, X, y, 3, "scratch", epochs=5, lr=0.05)
    assert all(torch.equal(before[k], v) for k, v in source.state_dict().items())          # source untouched
    assert torch.equal(feat.body[0].weight, source.body[0].weight)                          # frozen body
    assert count_parameters(feat) == 8 * 3 + 3 and feat.head.out_features == 3
    assert not torch.equal(fine.body[0].weight, source.body[0].weight)                      # fine-tuned body
    # Adam's first step moves each weight by lr |g| / (|g| + eps), just under the group's rate: lr * 0.1 for the body
    one = adapt(source, X, y, 3, "finetune", epochs=1, lr=0.05, body_lr_factor=0.1)
    step = (one.body[0].weight - source.body[0].weight).abs()
    assert 0.0049 < step.max() <= 0.005 + 1e-7
    fresh = make_net(10, [8], 5, seed=1)
    assert not torch.equal(scratch.body[0].weight, source.body[0].weight) and count_parameters(scratch) == \
        sum(p.numel() for p in fresh.body.parameters()) + 8 * 3 + 3


def test_body_features_and_pca_against_sklearn():
    model = make_net(10, [8, 6], 4, seed=0)
    X = np.random.default_rng(1).standard_normal((50, 10)).astype(np.float32)
    F = body_features(model, X)
    assert F.shape == (50, 6) and F.dtype == np.float32
    np.testing.assert_allclose(F, model.body(torch.from_numpy(X)).detach().numpy(), rtol=1e-6)
    G = np.random.default_rng(2).standard_normal((40, 5)) @ np.diag([5, 3, 1, 0.5, 0.1])
    Z, ref = pca_2d(G), PCA(n_components=2).fit_transform(G)
    signs = np.sign(np.sum(Z * ref, axis=0))          # principal axes are defined up to sign
    np.testing.assert_allclose(Z * signs, ref, rtol=1e-8, atol=1e-10)
    assert pca_2d(G.astype(np.float32)).dtype == np.float32


def test_adapt_falls_back_to_plain_adam_without_fused(monkeypatch):
    """adapt asks for the fused Adam (faster on a CPU); a torch without it gets the plain one and
    the same model, to float32 rounding."""
    torch.manual_seed(0)
    X, y = torch.randn(12, 10).numpy(), np.arange(12) % 3
    source = make_net(10, [8], 4, seed=0)
    fused = adapt(source, X, y, 3, "finetune", epochs=20, lr=1e-2, seed=1)
    plain_adam = torch.optim.Adam

    def no_fused(params, **kw):
        if kw.get("fused"):
            raise RuntimeError("fused=True requires all the params to be on a supported device")
        return plain_adam(params, **kw)

    monkeypatch.setattr(torch.optim, "Adam", no_fused)
    plain = adapt(source, X, y, 3, "finetune", epochs=20, lr=1e-2, seed=1)
    for (name, a), (_, b) in zip(fused.named_parameters(), plain.named_parameters()):
        torch.testing.assert_close(a, b, rtol=1e-5, atol=1e-6, msg=name)
    assert not torch.equal(fused.body[0].weight, source.body[0].weight)      # it did train


def test_feature_extraction_trains_N_L_times_N_Lminus1_plus_1():
    """The page's count for the chapter's 784-256-5 source net: N_L (N_{L-1} + 1) = 5 * 257 of 202 245."""
    model = make_net(784, [256], 5, seed=0)
    assert freeze_all_but(model, "head") == 5 * (256 + 1) == 1285 \
        == sum(p.numel() for p in model.parameters() if p.requires_grad)
    assert count_parameters(model, trainable=False) == 784 * 256 + 256 + 1285 == 202_245
