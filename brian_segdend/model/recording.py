"""What to record from a compiled network, declared before it is built, in Brian2's terms.

A cpp_standalone network is generated and compiled once; a monitor added afterwards would never
run (it records nothing, silently). So recordings are declared first and passed to the network::

    rec = Recording().state("hidden0_soma", ["V", "V_a"], neurons=[0, 1, 2]).spikes("output")
    rec.events("hidden0_soma", "end_f", ["sbar", "Vbar_f"])   # window means at each forward-phase end
    net = SegDendNetwork(params, recording=rec)
    state, result = net.run_chunk(...)
    result.recorded.state["hidden0_soma"].V      # (3, n_t) array, like StateMonitor.V
    result.recorded.spikes["output_soma"].t      # spike times with units, like SpikeMonitor.t
    result.recorded.events["hidden0_soma.end_f"].sbar   # one value per event and neuron, like EventMonitor

Each declaration becomes a Brian2 ``StateMonitor`` (``record=neurons``, ``dt=every*dt``, values at
the end of each step) or ``SpikeMonitor``, or ``EventMonitor`` of a custom event (``end_f``, ``end_t``: the
phase ends, where the window means are computed) in the compiled code; the results come back with Brian2
units (``t`` in seconds, variables in their own units). :class:`LateAdditionError` is what adding
an object to the network after its build raises.
"""

from __future__ import annotations

from dataclasses import dataclass

import brian2 as b2
import numpy as np

__all__ = ["Recording", "StateTrace", "SpikeTrace", "EventTrace", "Recorded", "LateAdditionError", "SealedNetwork",
           "GROUP_ALIASES"]

#: Short names accepted for groups: ``output`` is the output somas, ``hidden0`` the first hidden somas.
GROUP_ALIASES = {"output": "output_soma", "hidden": "hidden0_soma"}


class LateAdditionError(RuntimeError):
    """A Brian2 object was added to a network after its code was generated: it would never run."""


class SealedNetwork(b2.Network):
    """A ``brian2.Network`` that refuses :meth:`add` once its code has been generated."""

    _sealed_message = None

    def seal(self, message: str):
        """From now on, :meth:`add` raises :class:`LateAdditionError` with ``message``."""
        self._sealed_message = message

    def add(self, *objs):
        """Add objects (only before the build; see :class:`LateAdditionError`)."""
        if self._sealed_message is not None:
            names = ", ".join(getattr(o, "name", type(o).__name__) for o in objs)
            raise LateAdditionError(f"cannot add {names} to the network: {self._sealed_message}")
        super().add(*objs)


@dataclass(frozen=True)
class _State:
    group: str
    variables: tuple
    neurons: tuple | None
    every: int


def _group_name(name: str) -> str:
    if name in GROUP_ALIASES:
        return GROUP_ALIASES[name]
    if name.startswith("hidden") and name[6:].isdigit():
        return f"{name}_soma"
    return name


class Recording:
    """Declare what a network records: state variables per group and neuron subset, spikes per group.

    Methods return the Recording, so calls chain. Group names are the network's Brian2 groups
    (``input``, ``hidden<k>_dend``, ``hidden<k>_soma``, ``output_dend``, ``output_soma``; also
    ``output`` and ``hidden<k>`` for the somas).
    """

    def __init__(self):
        self._states: list[_State] = []
        self._spikes: dict[str, tuple | None] = {}
        self._events: dict[tuple, tuple] = {}    # (group, event) -> variables

    def state(self, group: str, variables, neurons=None, every: int = 1) -> Recording:
        """Record ``variables`` of ``group`` for ``neurons`` (indices; ``None``: all) every ``every`` steps."""
        variables = (variables,) if isinstance(variables, str) else tuple(variables)
        if not variables:
            raise ValueError("Recording.state: name at least one variable")
        if int(every) < 1:
            raise ValueError(f"Recording.state: every must be a positive number of steps, got {every!r}")
        self._states.append(_State(_group_name(group), variables,
                                   None if neurons is None else tuple(int(i) for i in neurons), int(every)))
        return self

    def spikes(self, group: str, neurons=None) -> Recording:
        """Record the spikes of ``group`` (of ``neurons`` only, if given)."""
        self._spikes[_group_name(group)] = None if neurons is None else tuple(int(i) for i in neurons)
        return self

    def events(self, group: str, event: str, variables) -> Recording:
        """Record ``variables`` of every neuron of ``group`` at each of its custom events ``event``.

        The phase-end events ``end_f`` and ``end_t`` of the somas and the input layer are where
        the window means (``Vbar_f``, ``sbar``, plateaus, errors) are computed; their EventMonitor
        runs in the ``end`` slot, after them. Read as ``Recorded.events["<group>.<event>"]``.
        """
        variables = (variables,) if isinstance(variables, str) else tuple(variables)
        if not variables:
            raise ValueError("Recording.events: name at least one variable")
        self._events[(_group_name(group), str(event))] = variables
        return self

    def __bool__(self):
        return bool(self._states or self._spikes or self._events)

    def key(self) -> dict:
        """A JSON-ready description (part of the network's build hash)."""
        return {"state": [[s.group, list(s.variables), None if s.neurons is None else list(s.neurons), s.every]
                          for s in self._states],
                "spikes": {g: None if n is None else list(n) for g, n in sorted(self._spikes.items())},
                # only when declared: recordings without events keep their build hashes
                **({"events": [[g, e, list(v)] for (g, e), v in sorted(self._events.items())]} if self._events else {})}

    def monitors(self, groups: dict, dt) -> dict:
        """The Brian2 monitors for ``groups`` (name -> NeuronGroup); ValueError names what is unknown."""
        out = {}
        for k, s in enumerate(self._states):
            g = _lookup(groups, s.group)
            missing = [v for v in s.variables if v not in g.variables]
            if missing:
                known = sorted(v for v in g.variables if not v.startswith("_") and v not in ("t", "dt", "N", "i"))
                raise ValueError(f"Recording.state: group {s.group!r} has no variable(s) {missing}; it has {known}")
            record = True if s.neurons is None else list(s.neurons)
            if s.neurons is not None and (min(s.neurons) < 0 or max(s.neurons) >= len(g)):
                raise ValueError(f"Recording.state: neurons of {s.group!r} must lie in 0..{len(g) - 1}")
            out[("state", k)] = b2.StateMonitor(g, list(s.variables), record=record, dt=s.every * dt, when="end",
                                                name=f"recording_state{k}_{s.group}")
        for name in sorted(self._spikes):
            g = _lookup(groups, name)
            out[("spikes", name)] = b2.SpikeMonitor(g, name=f"recording_spikes_{name}")
        for (name, event), variables in sorted(self._events.items()):
            g = _lookup(groups, name)
            if event not in g.events:
                raise ValueError(f"Recording.events: group {name!r} has no event {event!r}; it has {sorted(g.events)}")
            missing = [v for v in variables if v not in g.variables]
            if missing:
                raise ValueError(f"Recording.events: group {name!r} has no variable(s) {missing}")
            out[("events", (name, event))] = b2.EventMonitor(g, event, variables=list(variables), when="end",
                                                             name=f"recording_events_{name}_{event}")
        return out

    def read(self, monitors: dict) -> Recorded:
        """The recorded values (after a run) with their units."""
        rec = Recorded({}, {})
        for (kind, key), mon in monitors.items():
            if kind == "events":
                values = {v: _copy(getattr(mon, v)) for v in self._events[key]}
                rec.events[f"{key[0]}.{key[1]}"] = EventTrace(key[0], key[1], np.asarray(mon.t_) * b2.second,
                                                               np.asarray(mon.i), values)
            elif kind == "state":
                s = self._states[key]
                values = {v: _copy(getattr(mon, v)) for v in s.variables}
                neurons = np.asarray(mon.record) if s.neurons is not None else np.arange(mon.source.N)
                trace = StateTrace(s.group, np.asarray(mon.t_) * b2.second, neurons, values)
                if s.group in rec.state:      # several declarations for one group: merge their variables
                    rec.state[f"{s.group}#{key}"] = trace
                else:
                    rec.state[s.group] = trace
            else:
                t, i = np.asarray(mon.t_), np.asarray(mon.i)
                subset = self._spikes[key]
                if subset is not None:
                    keep = np.isin(i, subset)
                    t, i = t[keep], i[keep]
                n = mon.source.N
                rec.spikes[key] = SpikeTrace(key, t * b2.second, i, np.bincount(i, minlength=n),
                                             None if subset is None else np.asarray(subset))
        return rec


def _lookup(groups: dict, name: str):
    if name not in groups:
        raise ValueError(f"Recording: unknown group {name!r}; the network has {sorted(groups)}")
    return groups[name]


def _copy(value):
    if isinstance(value, b2.Quantity):
        return b2.Quantity(np.array(value), dim=value.dim)
    return np.array(value)


class StateTrace:
    """Recorded state variables of one group.

    ``t`` (with units), ``neurons``, and one attribute per variable, shape
    ``(len(neurons), len(t))`` as ``StateMonitor`` gives them (also ``trace['V']``).
    """

    def __init__(self, group, t, neurons, values: dict):
        self.group, self.t, self.neurons, self.values = group, t, neurons, values

    def __getattr__(self, name):
        values = self.__dict__.get("values", {})
        if name in values:
            return values[name]
        raise AttributeError(f"{name!r} was not recorded for {self.__dict__.get('group')!r} "
                             f"(recorded: {sorted(values)})")

    def __getitem__(self, name):
        return self.values[name]


@dataclass
class SpikeTrace:
    """Recorded spikes of one group.

    Times ``t`` (with units) and neuron indices ``i``, as ``SpikeMonitor`` gives them; ``count``
    per neuron of the group; ``neurons``: the subset or None.
    """

    group: str
    t: object
    i: np.ndarray
    count: np.ndarray
    neurons: np.ndarray | None = None


class EventTrace(StateTrace):
    """Recorded values of one group at its custom event.

    ``t`` (with units) and ``i`` per event and neuron, as ``EventMonitor`` gives them, and one
    attribute per variable (same length).
    """

    def __init__(self, group, event, t, i, values: dict):
        super().__init__(group, t, None, values)
        self.event, self.i = event, i


@dataclass
class Recorded:
    """What a run recorded.

    ``state`` (group -> :class:`StateTrace`), ``spikes`` (group -> :class:`SpikeTrace`), ``events``
    (``"<group>.<event>"`` -> :class:`EventTrace`).
    """

    state: dict
    spikes: dict
    events: dict = None

    def __post_init__(self):
        if self.events is None:
            self.events = {}
