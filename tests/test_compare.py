"""Plasticity models on the Figure 10 protocol: each model's own signature, then the comparison."""

import json

import numpy as np
import pytest

from brian_segdend.model.equations import EquationFileError
from brian_segdend.studies import compare as C


def test_stdp_exponential_window():
    """Song et al. (2000): LTP for pre before post, LTD for post before pre, exp(-|dt|/tau)."""
    r = C.stdp_window()
    dt, dw, expected = map(np.asarray, (r["dt_ms"], r["dw"], r["expected"]))
    assert np.all(dw[dt > 0] > 0) and np.all(dw[dt < 0] < 0)
    np.testing.assert_allclose(dw, expected, rtol=1e-6, atol=1e-12)
    p = C.load_model_file("stdp").params
    # magnitudes: ratio of two delays is exp(-(d2 - d1)/tau)
    i10, i20, m10, m20 = [list(dt).index(v) for v in (10, 20, -10, -20)]
    tau = float(p["tau_plus"] / C.ms)
    assert dw[i20] / dw[i10] == pytest.approx(np.exp(-10 / tau), rel=1e-6)
    assert dw[m20] / dw[m10] == pytest.approx(np.exp(-10 / float(p["tau_minus"] / C.ms)), rel=1e-6)
    assert abs(dw[m10]) / dw[i10] == pytest.approx(p["A_minus"] / p["A_plus"], rel=1e-6)


def test_clopath_frequency_dependence():
    """Clopath et al. (2010) Fig. 2b: LTD at low pairing frequency, LTP at high frequency."""
    r = C.clopath_frequency(freqs_hz=(0.1, 10.0, 50.0))
    pre_post, post_pre = r["pre_post"], r["post_pre"]
    assert post_pre[0] < 0 and post_pre[1] < 0      # low frequency: LTD
    assert post_pre[2] > 0                           # 50 Hz: LTP despite post-before-pre
    assert pre_post[2] > 0 and pre_post[2] > pre_post[0]   # pre-post potentiation grows with frequency
    assert post_pre[2] - post_pre[0] > 3.0           # percent points


def test_urbanczik_senn_prediction_matches_teacher():
    """Urbanczik & Senn (2014): under a somatic teacher the dendritic prediction converges to the somatic rate."""
    r = C.urbanczik_teacher()
    first, last = r["first"], r["last"]
    assert last["error_hz"] < 0.5 * first["error_hz"]
    # the teacher asks for a high rate in pattern A, a low one in pattern B: the prediction follows
    assert last["A"]["phi_star_hz"] > 3 * first["A"]["phi_star_hz"]
    assert last["B"]["phi_star_hz"] < first["B"]["phi_star_hz"]
    assert abs(last["A"]["phi_star_hz"] - last["A"]["phi_U_hz"]) < 0.2 * last["A"]["phi_U_hz"]


def test_sign_rule():
    assert C.sign_of(0.0, 0.0) == 0
    assert C.sign_of(1.0, 0.6) == 0
    assert C.sign_of(-1.0, 0.4) == -1
    assert C.sign_of(1.0, 0.0) == 1


def test_bad_equation_file(tmp_path):
    text = C.load_model_file("stdp").text
    (tmp_path / "stdp_song2000.eqs").write_text(text.replace("w : 1 ", "w2 : 1 "))
    with pytest.raises(EquationFileError, match="must define w"):
        C.load_model_file("stdp", tmp_path)
    (tmp_path / "stdp_song2000.eqs").write_text(text.replace("= 20*ms", "= 20*mss", 1))
    with pytest.raises(EquationFileError, match="stdp_song2000.eqs:"):
        C.load_model_file("stdp", tmp_path)


@pytest.mark.slow
def test_main_quick(tmp_path):
    out = tmp_path / "cmp"
    assert C.main(["--quick", "--out", str(out)]) == 0
    for name in ("comparison.json", "comparison.md", "comparison.png", "models.md"):
        assert (out / name).stat().st_size > 0, name
    r = json.loads((out / "comparison.json").read_text())
    assert set(r["models"]) == {"stdp", "clopath", "urbanczik_senn", "payeur", "segdend"}
    for m, res in r["models"].items():
        assert set(res["conditions"]) == set(C.CONDITION_NAMES), m
        for name, c in res["conditions"].items():
            assert {"dw_mean", "dw_sem", "sign"} <= set(c), (m, name)
            assert c["sign"] in (-1, 0, 1)
            assert c["silent_max_abs"] == 0.0, (m, name)   # unstimulated synapses never change
    seg = r["models"]["segdend"]["conditions"]
    assert seg["early_apical"]["sign"] == -1 and seg["late_apical"]["sign"] == 1
    assert seg["no_apical"]["dw_mean"] == 0.0 and seg["no_apical"]["sign"] == 0
    bursts = r["models"]["payeur"]["conditions"]
    assert bursts["sustained_apical"]["burst_fraction"] > bursts["no_apical"]["burst_fraction"]   # apical input: bursts
    assert bursts["sustained_apical"]["sign"] == 1
    md = (out / "comparison.md").read_text()
    assert "| early_apical |" in md and "disagree" in md
    models_md = (out / "models.md").read_text()
    assert "Song" in models_md and "Clopath" in models_md and "Urbanczik" in models_md and "\\frac" in models_md
    assert "Payeur" in models_md and "burst fraction" in md


def test_disagreements_report_sign_and_magnitude():
    """Same sign but very different relative size (sustained apical input: this model ~0, another
    as large as its strongest condition) is a magnitude disagreement, listed with both values."""
    def model(values):
        return {"label": "x", "weight_unit": "1", "conditions": {
            n: {"dw_mean": v, "dw_sem": 0.01, "sign": int(np.sign(v)) if abs(v) > 0.02 else 0}
            for n, v in zip(C.CONDITION_NAMES, values)}}
    order = list(C.CONDITION_NAMES)
    a = [0.0] * len(order)
    b = [0.0] * len(order)
    a[order.index("early_apical")], a[order.index("late_apical")], a[order.index("sustained_apical")] = -1.0, 1.0, 0.1
    b[order.index("early_apical")], b[order.index("late_apical")], b[order.index("sustained_apical")] = 1.0, 1.0, 0.9
    res = {"models": {"a": model(a), "b": model(b)}}
    dis = {d["condition"]: d for d in C.disagreements(res)}
    assert dis["early_apical"]["kind"] == "sign"
    assert dis["sustained_apical"]["kind"] == "magnitude"
    assert dis["sustained_apical"]["normalised"] == pytest.approx({"a": 0.1, "b": 0.9})
    assert "late_apical" not in dis and "no_apical" not in dis


def test_payeur_burst_rule():
    """Payeur et al. (2021) Fig. 2, through the equation file: a burst after presynaptic input
    potentiates, an isolated event depresses by Pbar times as much; dendritic input raises the
    burst fraction, and the sign of the change follows burst fraction minus the running Pbar.
    Every change equals the NumPy oracle on the recorded spike trains."""
    r = C.burst_rule()
    p = C.load_model_file("payeur").params
    pair = r["pairings"]
    for name, c in pair.items():
        assert c["dw"] == pytest.approx(c["expected"], rel=1e-5, abs=1e-12), name
    assert (pair["event"]["events"], pair["event"]["bursts"]) == (1, 0)
    assert (pair["burst"]["events"], pair["burst"]["bursts"]) == (1, 1)
    assert pair["burst3"]["post_ms"] == pytest.approx([5.0, 10.0, 15.0])   # no spikes of its own
    tau = float(p["tau_pre"] / C.ms)
    # event 5 ms after the presynaptic spike: -eta * P0 * exp(-5/tau_pre)
    assert pair["event"]["dw"] == pytest.approx(-p["eta"] * p["P0"] * np.exp(-5 / tau), rel=1e-9)
    # burst: the event's depression plus +eta * exp(-10/tau_pre) at the second spike
    assert pair["burst"]["dw"] == pytest.approx(p["eta"] * (np.exp(-10 / tau) - p["P0"] * np.exp(-5 / tau)), rel=1e-9)
    assert pair["burst"]["dw"] > 0 > pair["event"]["dw"] > pair["two_events"]["dw"]
    assert pair["burst3"]["dw"] == pytest.approx(pair["burst"]["dw"], rel=1e-12)   # a burst counts once
    assert r["dw_max_error"] < 1e-4 * r["dw_max_abs"]
    levels = [r["levels"][k] for k in sorted(r["levels"])]
    bf = [lv["burst_fraction"] for lv in levels]
    assert bf[0] < bf[1] < bf[2]                          # dendritic input raises the burst fraction
    assert bf[0] < r["P0"] < bf[2]
    low, high = levels[0], levels[-1]
    assert low["dw_mean"] < -3 * low["dw_sem"]            # below the expected burst fraction: LTD
    assert high["dw_mean"] > 3 * high["dw_sem"]           # above it: LTP
    assert low["Pbar_end"] < r["P0"] < high["Pbar_end"]   # the running estimate follows


def test_payeur_bad_equation_file(tmp_path):
    """A mistake in payeur2021.eqs names the file and its line."""
    text = C.load_model_file("payeur").text
    lines = text.splitlines()
    k = next(i for i, ln in enumerate(lines) if ln.startswith("dV_d/dt"))
    bad = list(lines)
    bad[k] = bad[k].replace(": volt", ": vlot")
    (tmp_path / "payeur2021.eqs").write_text("\n".join(bad) + "\n")
    with pytest.raises(EquationFileError, match=f"payeur2021.eqs:{k + 1}:"):
        C.load_model_file("payeur", tmp_path)
    k = next(i for i, ln in enumerate(lines) if "param tau_avg" in ln)
    bad = list(lines)
    bad[k] = bad[k].replace("4*second", "4*secnd")
    (tmp_path / "payeur2021.eqs").write_text("\n".join(bad) + "\n")
    with pytest.raises(EquationFileError, match=f"payeur2021.eqs:{k + 1}: parameter 'tau_avg'"):
        C.load_model_file("payeur", tmp_path)
    (tmp_path / "payeur2021.eqs").write_text(text.replace("Pbar = Bbar/Ebar : 1", "Pb = Bbar/Ebar : 1"))
    with pytest.raises(EquationFileError, match="payeur2021.eqs:.*must define Pbar"):
        C.load_model_file("payeur", tmp_path)
