"""``python -m tests.golden.measure``, the tool behind the README's calibration table: it runs
every fact of crash.md on the seeds asked and prints each seed's measure, marking the misses.
Checked on one seed at a twentieth of the crowd (its figures are not the level's)."""

from tests.golden import measure


def test_measure_prints_every_fact_per_seed_and_counts_the_misses(capsys):
    assert measure.main(["--seeds", "2", "--set", "crowd.accounts=1000", "--workers", "2"]) == 0
    out = capsys.readouterr().out.splitlines()
    facts = [line for line in out if line[:1] in "FC" and "[" in line]
    names = [line.split()[0] for line in facts]
    assert names == [f"F{i}" for i in range(1, 21)] + ["C1", "C2", "C3", "C4"]
    for line in facts:  # F10 on the first seed, F18 over all seeds: one result each
        held, runs = line.rsplit("[", 1)[1].rstrip("]").split("/")
        assert runs == "1" and held in ("0", "1")
    seeds = [line.strip().split(":")[0].strip("*") for line in out if line.startswith("    ")]
    assert seeds.count("0") == 1 and seeds.count("2") == len(facts) - 1  # F18's row is "0"
    misses = sum(line.rsplit("[", 1)[1].startswith("0/") for line in facts)
    assert out[-1] == f"misses: {misses}"
