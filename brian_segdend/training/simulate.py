"""One example through a trained network, with every voltage recorded: the mechanism in numbers.

:func:`simulate` loads a ``weights.npz`` (with the configuration the training run recorded in it),
shows one image for one training example (forward phase, then target phase with the teaching
signal for a label) or one test presentation (forward phase of ``test_duration``), and returns the
somatic, basal and apical voltages of the hidden neurons, the plateaus alpha^f / alpha^t the
compiled learning rule computed, the output somas' voltages and the spikes of every layer, all
with Brian2 units (:class:`SimulationResult`). ``python -m brian_segdend trace`` plots them.

The recordings are declared before the build (:class:`brian_segdend.model.recording.Recording`)
for *all* neurons of each layer, so the choice of neurons never changes the compiled program: one
build per architecture, reused by every later call.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from brian2 import Quantity, second

from ..model.network import SegDendNetwork
from ..model.params import ModelParams, ParameterError
from ..model.recording import Recording
from ..model.schedule import pack_chunk
from .data import load_mnist
from .train import TrainConfig, effective_params, load_weights, recorded_config, seed_for

__all__ = ["simulate", "SimulationResult", "LayerTrace", "HIDDEN_VARIABLES", "OUTPUT_VARIABLES", "simulation_steps"]

#: State variables recorded for every hidden soma (``k_L``: the jump part of the neuron's own
#: filtered spike train, kernel.eqs; it rises by 1/(tau_L - tau_s) at each of the neuron's spikes).
HIDDEN_VARIABLES = ("V", "V_b", "V_a", "alpha_f", "alpha_t", "k_L")
#: State variables recorded for every output soma (``V_b``: its dendrite's potential).
OUTPUT_VARIABLES = ("V", "V_b")

_OPTION = {"image": "--image", "label": "--label", "neurons": "--neurons", "mode": "--mode", "seed": "--seed"}


def _param(name: str) -> str:
    return f"parameter '{name}' ({_OPTION[name]})" if name in _OPTION else f"parameter '{name}'"


@dataclass
class LayerTrace:
    """What one layer did during :func:`simulate`.

    Attributes
    ----------
    name : str
        The Brian2 group (``hidden0_soma``, ..., ``output_soma``).
    neurons : ndarray of int
        The neurons whose voltages are given (rows of ``V``, ``V_b``, ...).
    V, V_b, V_a : ndarray, shape (len(neurons), len(t))
        Somatic, basal (output layer: dendritic) and apical potential, as Brian2's StateMonitor gives
        them (the model's potentials are dimensionless: unit 1, plain arrays); ``V_a`` is None for
        the output layer. Values at the end of each step.
    k_L : Quantity (Hz), shape (len(neurons), len(t))
        Jump part of each neuron's own filtered spike train: one jump of 1/(tau_L - tau_s) per spike
        (hidden layers; None for the output layer, which has no filtered train of its own).
    alpha_f, alpha_t : ndarray, shape (len(neurons),)
        The plateaus the compiled rule computed at the end of the forward / target phase
        (sigmoid of the mean apical potential over the phase's averaging window; with the plateau-time
        variant, ``plateau_sd`` > 0, over ``plateau_window`` steps ending a random offset before the
        phase end, per neuron); read from the network's own ``alpha_f`` / ``alpha_t`` variables at the
        phase's last step. Hidden layers only; ``alpha_t`` is None for a test presentation.
    spike_t : Quantity (s), spike_i : ndarray of int
        Every spike of the layer (all its neurons, not only ``neurons``), as ``SpikeMonitor.t`` / ``.i``.
    spike_count : ndarray of int, shape (layer size,)
        Spikes of each neuron of the layer.
    """

    name: str
    neurons: np.ndarray
    V: np.ndarray
    V_b: np.ndarray
    k_L: Quantity | None
    spike_t: Quantity
    spike_i: np.ndarray
    spike_count: np.ndarray
    V_a: np.ndarray | None = None
    alpha_f: np.ndarray | None = None
    alpha_t: np.ndarray | None = None


@dataclass
class SimulationResult:
    """The result of :func:`simulate` (times are Brian2 quantities in seconds).

    Attributes
    ----------
    t : Quantity
        Sample times (one per time step, ``t = step * dt``; the values are those at the end of the step).
    hidden : list of LayerTrace
        One per hidden layer (voltages, plateaus, spikes).
    output : LayerTrace
        The output layer (all its neurons).
    phases : dict
        ``name -> (start, end)`` with units, half-open ``[start, end)`` in the sample times ``t``:
        ``forward``, ``forward_window`` and, for a training example, ``target``, ``target_window``.
        The averaging windows start ``settle`` after their phase's start and end with the phase.
    predicted : int
        The network's answer: the output neuron with the largest mean somatic voltage over the
        forward window.
    output_Vbar_f : ndarray
        That mean voltage of each output neuron.
    label : int or None
        The label the teaching signal targeted (training example) or the image's label.
    image : int or None
        Index of the image in the MNIST test set (None when pixels were given).
    mode : str
        ``"train"`` (forward and target phase) or ``"test"`` (forward phase of ``test_duration``).
    weights : dict
        ``W``, ``b``, ``Y`` after the example: the given weights unless ``learn=True``.
    config : dict
        The configuration the weights file recorded (with any ``user_params`` given).
    params : ModelParams
        The model parameters of the run (learning rates zero unless ``learn=True``).
    seed : int
        The seed of the input's Poisson spikes.
    """

    t: Quantity
    hidden: list
    output: LayerTrace
    phases: dict
    predicted: int
    output_Vbar_f: np.ndarray
    label: int | None
    image: int | None
    mode: str
    weights: dict
    config: dict
    params: ModelParams
    seed: int
    dt: Quantity = field(default=None)


def simulation_steps(params: ModelParams) -> tuple[int, int, int]:
    """``(phase, test, chunk)`` steps of :func:`simulate`.

    Each training phase lasts ``phase_min`` (the protocol's fixed part; the Wald-distributed extra
    is left out so that the phases are the same in every call), a test presentation
    ``test_duration``, and the compiled chunk holds either.
    """
    phase = params.steps("phase_min")
    test = params.steps("test_duration")
    return phase, test, max(2 * phase, test)


def _config_of(weights, meta: dict, user_params: dict | None) -> TrainConfig:
    stored = recorded_config(weights, meta, user_params, "simulate")
    return TrainConfig.from_dict(stored, source=f"{weights} (recorded configuration)")


def _neuron_lists(neurons, sizes) -> list:
    """Per hidden layer: the chosen neuron indices (ndarray) or None (all)."""
    if neurons is None:
        return [None] * len(sizes)
    if isinstance(neurons, dict):
        bad = [k for k in neurons if not (isinstance(k, (int, np.integer)) and 0 <= k < len(sizes))]
        if bad:
            raise ParameterError(f"{_param('neurons')}: the network has {len(sizes)} hidden layer(s), "
                                 f"got layer {bad[0]!r}")
        per = {int(k): v for k, v in neurons.items()}
    else:
        per = dict.fromkeys(range(len(sizes)), neurons)
    out = []
    for k, n in enumerate(sizes):
        if per.get(k) is None:
            out.append(None)
            continue
        try:
            idx = np.array([int(i) for i in np.atleast_1d(per[k])], dtype=np.int64)
        except (TypeError, ValueError):
            raise ParameterError(f"{_param('neurons')}: neuron indices (integers), got {per[k]!r}") from None
        if len(idx) == 0:
            raise ParameterError(f"{_param('neurons')}: name at least one neuron")
        bad = idx[(idx < 0) | (idx >= n)]
        if len(bad):
            raise ParameterError(f"{_param('neurons')}: neuron {int(bad[0])} does not exist in hidden layer {k} "
                                 f"({n} neurons: 0 .. {n - 1})")
        out.append(idx)
    return out


def simulate(weights, image, label: int | None = None, mode: str = "train", neurons=None, learn: bool = False,
             seed: int | None = None, data=None, from_rest: bool = False, user_params: dict | None = None,
             log=print) -> SimulationResult:
    """Run one example through a trained network and return its voltages, plateaus and spikes.

    Parameters
    ----------
    weights : path or tuple
        A ``weights.npz`` written by a training run, or the ``(state, meta)`` pair that
        :func:`brian_segdend.load_weights` returns. Its recorded configuration (architecture,
        timing, conductances, equation-file parameters, precision) is used: nothing is repeated.
    image : int or array of 784 floats
        Index into the MNIST test set, or the pixels (values in [0, 1]).
    label : int, optional
        Target of the teaching signal in the target phase; default: the image's own label
        (required when pixels are given and ``mode="train"``).
    mode : {"train", "test"}
        ``"train"``: one training example, a forward phase then a target phase of ``phase_min``
        each (:func:`simulation_steps`); ``"test"``: one forward phase of ``test_duration``.
    neurons : sequence of int or dict, optional
        Hidden neurons whose voltages are returned: indices used in every hidden layer, or
        ``{layer: indices}`` (layers not named: all neurons); default all. Every neuron is
        recorded, so this choice never rebuilds the program.
    learn : bool
        False (default): the learning rates are set to zero for this run, so the weights are not
        changed (the plateaus and errors are computed all the same). True: the compiled rule
        updates the weights at the end of the target phase; ``result.weights`` holds them.
    seed : int, optional
        Seed of the input's Poisson spikes (default: the run's seed).
    data : MNIST, optional
        Already loaded data (default: the data source the run recorded).
    from_rest : bool
        Start from rest (all state variables 0) instead of the state the weights file saved at
        the end of training.
    user_params : dict, optional
        Values of parameters declared in the equation files (default: the run's own).
    log : callable or None
        Receives the compile messages of a first build.

    Returns
    -------
    SimulationResult
        ``t``; per hidden layer ``V``, ``V_b``, ``V_a``, ``alpha_f``, ``alpha_t`` and spikes; the output
        layer's ``V``, ``V_b`` and spikes; the phases and averaging windows; the predicted class.

    Raises
    ------
    ParameterError
        An image, label, neuron index or mode that does not exist (the message names the option).
    TrainingError
        A weights file that cannot be read or does not record its configuration.

    Examples
    --------
    >>> import brian_segdend
    >>> res = brian_segdend.simulate("results/train/weights.npz", image=0, neurons=[0, 1, 2])  # doctest: +SKIP
    >>> h = res.hidden[0]
    >>> h.V_a.shape == (3, len(res.t)), h.alpha_f, h.alpha_t               # doctest: +SKIP
    >>> res.phases["target_window"], res.predicted, res.output.spike_count  # doctest: +SKIP
    """
    if mode not in ("train", "test"):
        raise ParameterError(f"{_param('mode')}: 'train' or 'test', got {mode!r}")
    if isinstance(weights, tuple):
        state, meta = weights
        where = "the given weights"
    else:
        state, meta = load_weights(weights)
        where = str(weights)
    config = _config_of(where, meta, user_params)
    params = effective_params(config)
    if not learn:
        n_layers = len(params.layer_sizes) - 1
        params = params.replace(eta=(0.0,) * n_layers, eta_bias=(0.0,) * n_layers)
    chosen = _neuron_lists(neurons, params.hidden)
    # ---- the image and its label
    index = None
    if isinstance(image, (int, np.integer)) and not isinstance(image, bool):
        if data is None:
            data = load_mnist(source=config.data_source)
        n = len(data.test_labels)
        if not 0 <= int(image) < n:
            raise ParameterError(f"{_param('image')}: index {int(image)} is outside the test set (0 .. {n - 1})")
        index = int(image)
        pixels = np.asarray(data.test_images[index], dtype=float)
        own_label = int(data.test_labels[index])
    else:
        pixels = np.asarray(image, dtype=float).reshape(-1)
        if pixels.shape != (params.n_input,):
            raise ParameterError(f"{_param('image')}: an index into the test set or {params.n_input} pixels, "
                                 f"got an array of shape {np.shape(image)}")
        own_label = None
    if label is None:
        label = own_label
    if label is None and mode == "train":
        raise ParameterError(f"{_param('label')}: the target of the teaching signal is needed when pixels are given")
    if label is not None and not (isinstance(label, (int, np.integer)) and 0 <= int(label) < params.n_output):
        raise ParameterError(f"{_param('label')}: a class 0 .. {params.n_output - 1}, got {label!r}")
    seed = config.seed if seed is None else int(seed)

    # ---- one example, everything recorded
    phase, test, chunk = simulation_steps(params)
    rec = Recording()
    for k in range(len(params.hidden)):
        rec.state(f"hidden{k}_soma", HIDDEN_VARIABLES).spikes(f"hidden{k}_soma")
    rec.state("output_soma", OUTPUT_VARIABLES).spikes("output_soma")
    net = SegDendNetwork(params, chunk_steps=chunk, device=config.device, precision=config.precision,
                         fast_rng=config.fast_rng, recording=rec)
    net.build(log=log)
    settle = params.steps("settle")
    train = mode == "train"
    sch = pack_chunk(np.array([[phase, phase]]) if train else np.array([test]), chunk, settle, train=train)
    run_state = {k: v for k, v in state.items() if k != "dynamic" or not from_rest}
    new_state, res = net.run_chunk(run_state, pixels[None, :], np.array([label if label is not None else 0]), sch,
                                   seed=seed_for(seed, "simulate"))

    # ---- results with units
    dt = params.dt
    st_out = res.recorded.state["output_soma"]
    end_f = int(sch.end_f_steps[0])
    end_t = int(sch.end_t_steps[0])
    start = int(sch.starts[0])
    last = end_t if train else end_f
    # the compiled run stops at the first idle step after the example: keep the example's samples only
    all_steps = np.round(np.asarray(st_out.t / second) / float(dt / second)).astype(np.int64)
    keep = all_steps <= last
    steps = all_steps[keep]
    t = st_out.t[keep]

    def spikes_of(sp):
        inside = np.round(np.asarray(sp.t / second) / float(dt / second)).astype(np.int64) <= last
        i = np.asarray(sp.i)[inside]
        return sp.t[inside], i, np.bincount(i, minlength=len(sp.count))
    phases = {"forward": ((start) * dt, (end_f + 1) * dt),
              "forward_window": ((start + settle) * dt, (end_f + 1) * dt)}
    if train:
        phases["target"] = ((end_f + 1) * dt, (end_t + 1) * dt)
        phases["target_window"] = ((end_f + 1 + settle) * dt, (end_t + 1) * dt)

    def at(step):
        where = np.flatnonzero(steps == step)
        if len(where) != 1:
            raise RuntimeError(f"simulate: the recording has no sample at step {step}")
        return int(where[0])

    hidden = []
    for k, n_h in enumerate(params.hidden):
        name = f"hidden{k}_soma"
        st = res.recorded.state[name]
        rows = np.arange(n_h) if chosen[k] is None else chosen[k]
        sp_t, sp_i, count = spikes_of(res.recorded.spikes[name])
        hidden.append(LayerTrace(
            name=name, neurons=rows, V=st.V[rows][:, keep], V_b=st.V_b[rows][:, keep], V_a=st.V_a[rows][:, keep],
            k_L=st.k_L[rows][:, keep], alpha_f=np.asarray(st.alpha_f)[rows][:, keep][:, at(end_f)],
            alpha_t=np.asarray(st.alpha_t)[rows][:, keep][:, at(end_t)] if train else None,
            spike_t=sp_t, spike_i=sp_i, spike_count=count))
    sp_t, sp_i, count = spikes_of(res.recorded.spikes["output_soma"])
    output = LayerTrace(name="output_soma", neurons=np.arange(params.n_output), V=st_out.V[:, keep],
                        V_b=st_out.V_b[:, keep], k_L=None, spike_t=sp_t, spike_i=sp_i, spike_count=count)
    vbar = np.asarray(res.out_Vbar_f[0])
    return SimulationResult(
        t=t, hidden=hidden, output=output, phases=phases, predicted=int(np.argmax(vbar)), output_Vbar_f=vbar,
        label=None if label is None else int(label), image=index, mode=mode,
        weights={k: new_state[k] for k in ("W", "b", "Y")} if learn else {k: state[k] for k in ("W", "b", "Y")},
        config=config.to_dict(), params=params, seed=seed, dt=dt)
