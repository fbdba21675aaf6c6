from __future__ import annotations

import json
from collections import Counter
from datetime import date
from typing import Any

import pytest

from tests.conftest import samples_path
from tests.helpers.deep_fixtures import RawPlay, sample_store, scoped, song, spotify_account, synthetic_store, utc
from tutti.insights.service_recap import RecapFigure, ServiceComparison, compare_service_recaps
from tutti.model import ContentKind, LibraryItem, LibraryKind, ServiceRecap, Source
from tutti.store.ingest import insert_items

ERIN = ("spotify-account", "hobbies-w-erin")
ZONE = "America/New_York"
START, END = date(2023, 1, 1), date(2023, 11, 15)  # Spotify's window as assumed: 1 Jan to mid-November


def _names_from_raw_library(folder: str) -> dict[str, str]:
    """URI -> how the comparison shows it, read straight from YourLibrary.json and Playlist1.json."""
    root = samples_path(*ERIN, folder)
    library = json.loads((root / "YourLibrary.json").read_text("utf-8"))
    pairs: dict[str, set[tuple[str, str | None]]] = {}
    for item in library["tracks"]:
        pairs.setdefault(item["uri"], set()).add((item["track"], item["artist"]))
    for item in library["artists"]:
        pairs.setdefault(item["uri"], set()).add((item["name"], None))
    for item in library["shows"]:
        if item.get("uri"):
            pairs.setdefault(item["uri"], set()).add((item["name"], item.get("publisher")))
    for playlist in json.loads((root / "Playlist1.json").read_text("utf-8"))["playlists"]:
        for entry in playlist["items"]:
            if entry.get("track") and entry["track"].get("trackUri"):
                track = entry["track"]
                pairs.setdefault(track["trackUri"], set()).add((track["trackName"], track["artistName"]))
    shown = {}
    for uri, found in pairs.items():
        name = min(n for n, _ in found)
        artists = [a for _, a in found if a]
        shown[uri] = f"{name} ({min(artists)})" if artists else name
    return shown


def _top(music: list[RawPlay], tracks: bool) -> str:
    groups: dict[tuple[str, str], list[RawPlay]] = {}
    for p in music:
        if p.track or not tracks:
            groups.setdefault(((p.artist or "").lower(), (p.track or "").lower() if tracks else ""), []).append(p)
    ranked = []
    for plays in groups.values():
        artist = min(p.artist or "" for p in plays)
        name = f"{min(p.track or '' for p in plays)} ({artist})" if tracks else artist
        ranked.append((-len(plays), -sum(p.ms or 0 for p in plays), name))
    return ", ".join(name for _, _, name in sorted(ranked)[:5])


@pytest.mark.samples
def test_wrapped_2023_beside_our_figures_recomputed_from_the_raw_files() -> None:
    folder = samples_path(*ERIN)
    wrapped = json.loads((folder / "Spotify Account Data" / "Wrapped2023.json").read_text("utf-8"))
    shown = _names_from_raw_library("Spotify Account Data")
    raw = spotify_account(folder, ZONE)
    window = [p for p in raw if START <= p.day <= END]
    music = [p for p in window if p.kind == "music" and p.counts and p.artist]
    first, last = min(p.day for p in raw), max(p.day for p in raw)
    with scoped(sample_store(*ERIN), "2023", ZONE) as scope:
        [comparison] = compare_service_recaps(scope)
    assert (comparison.source, comparison.year) == ("spotify_account", 2023)
    assert (comparison.window_start, comparison.window_end) == (START, END)
    assert (comparison.compared_start, comparison.compared_end) == (first, min(END, last))
    figures = {f.name: f for f in comparison.figures}
    metrics, artists, tracks = wrapped["yearlyMetrics"], wrapped["topArtists"], wrapped["topTracks"]

    def minutes(ms: int) -> str:
        return f"{ms // 60_000:,} min"

    assert (figures["minutes listened"].theirs, figures["minutes listened"].ours) == (
        minutes(metrics["totalMsListened"]),
        minutes(sum(p.ms or 0 for p in window)),
    )
    assert (figures["podcast minutes"].theirs, figures["podcast minutes"].ours) == (
        minutes(wrapped["topPodcasts"]["totalPodcastMilliseconds"]),
        minutes(sum(p.ms or 0 for p in window if p.kind == "podcast")),
    )
    assert (figures["different artists"].theirs, figures["different artists"].ours) == (
        f"{artists['numUniqueArtists']:,}",
        f"{len({(p.artist or '').lower() for p in music}):,}",
    )
    assert (figures["different tracks"].theirs, figures["different tracks"].ours) == (
        f"{tracks['distinctTracksPlayed']:,}",
        f"{len({((p.artist or '').lower(), (p.track or '').lower()) for p in music if p.track}):,}",
    )
    top_artist_uris = [a["artistUri"] for a in artists["topArtists"]]
    halves = [(10, 2), (11, 1)]
    matched = _matched_by_pattern(
        artists["topArtists"], music, halves, {shown[u] for u in top_artist_uris if u in shown}
    )
    named = {
        u: shown.get(u) or f"{matched[u]} (matched by listening pattern)"
        for u in top_artist_uris
        if u in shown or u in matched
    }
    assert named, "the sample's library names two of the five"
    unnamed = len(top_artist_uris) - len(named)
    expected_artists = [named[u] for u in top_artist_uris if u in named]
    expected_artists += (
        [f"{unnamed} more given by Spotify only as an ID that nothing in your data names"] if unnamed else []
    )
    assert figures["top artists"].theirs == ", ".join(expected_artists)
    track_names = [shown[u] for u in tracks["topTracks"] if u in shown]
    missing_tracks = len(tracks["topTracks"]) - len(track_names)
    track_names += [f"{missing_tracks} more given by Spotify only as an ID that nothing in your data names"]
    assert figures["top tracks"].theirs == ", ".join(track_names)
    assert all("spotify:" not in (f.theirs or "") + (f.ours or "") + f.name for f in comparison.figures)
    # Everything else the file holds, as Spotify's, beside ours where Tutti counts the same thing.
    assert figures["how much you listened, against everyone on Spotify"].theirs == (
        f"more than {metrics['percentGreaterThanWorldwideUsers']:.1f}% of listeners worldwide"
    )
    top_name = matched.get(top_artist_uris[0]) or shown.get(top_artist_uris[0], "your top artist")
    fan = figures["how big a fan of your top artist"]
    assert fan.theirs == f"among the top {artists['topArtistFanPercentage'] * 100:.2g}% of {top_name}'s listeners"
    assert fan.ours is None
    genres = wrapped["topGenres"]
    assert figures["top genres"].theirs == f"{', '.join(genres['topGenres'])} (of {genres['numberGenres']} genres)"
    assert figures["your listening character"].theirs == wrapped["darkMode"]["creatureOfHabit"].lower()
    assert figures["first play of your top track"].theirs == tracks["topTrackFirstPlayedDate"]
    podcasts = wrapped["topPodcasts"]
    minutes_on_top, share = podcasts["topPodcastMilliseconds"] // 60_000, podcasts["topPodcastPercentage"]
    assert figures["time on your top podcast"].theirs == f"{minutes_on_top:,} min, {share:.0%} of your podcast time"
    assert figures["top artists"].ours == _top(music, tracks=False)
    assert figures["top tracks"].ours == _top(music, tracks=True)

    # Streams by half-month for the named top artists, over the halves our history wholly covers and the file lists
    assert first == date(2023, 10, 2)  # so the first half of October is not wholly covered
    for uri in named:
        name = shown.get(uri) or matched[uri]
        [artist] = [a for a in artists["topArtists"] if a["artistUri"] == uri]
        listed = {
            (m["month"], b["period"]): b["numStreams"] for m in artist["monthlyStreams"] for b in m["biweeklyStreams"]
        }
        theirs = sum(n for h, n in listed.items() if h in halves)
        ours = sum(
            1
            for p in music
            if (p.artist or "").lower() == name.lower() and _half(p.day) in listed and _half(p.day) in halves
        )
        figure = figures[f"streams of {name}"]
        assert (figure.theirs, figure.ours) == (str(theirs), str(ours))

    top_track = figures[f"plays of the top track, {shown[tracks['topTracks'][0]]}"]
    assert top_track.theirs == str(tracks["topTrackPlayCount"])
    assert top_track.ours == str(sum(1 for p in music if (p.artist, p.track) == ("Summer Walker", "Baby")))
    day = date.fromisoformat(metrics["mostListenedDay"])
    busiest = figures[f"minutes on the most listened day, {day}"]
    assert busiest.theirs == f"{metrics['mostListenedDayMinutes']:,.0f} min"
    assert busiest.ours == f"{sum(p.ms or 0 for p in raw if p.day == day) / 60_000:,.0f} min"

    text = " ".join(comparison.explanation)
    assert "Different windows" in text and "1 Jan to mid-November; the file does not give the cut-off" in text
    assert "covers only 2023-10-02..2023-11-15" in text
    everything = [*top_artist_uris, *tracks["topTracks"], *podcasts["topPodcastsUri"]]
    unresolved = [u for u in everything if u not in shown and u not in matched]
    assert "default-v1" in text and f"{len(unresolved)} of Spotify's top artists, tracks and shows" in text


def _half(day: date) -> tuple[int, int]:
    return (day.month, 1 if day.day <= 15 else 2)


def _matched_by_pattern(
    top: list[dict[str, Any]], music: list[RawPlay], halves: list[tuple[int, int]], named: set[str]
) -> dict[str, str]:
    """The documented rule, recounted from the raw plays: an artist whose plays per half-month are at most 30%
    apart from Spotify's streams of an unnamed URI (5 or more streams), 0.15 closer than any other artist."""
    ours: dict[str, Counter[tuple[int, int]]] = {}
    names: dict[str, str] = {}
    for p in music:
        if START <= p.day <= END and p.artist:
            ours.setdefault(p.artist.lower(), Counter())[_half(p.day)] += 1
            names[p.artist.lower()] = min(names.get(p.artist.lower(), p.artist), p.artist)
    found: dict[str, str] = {}
    for artist in top:
        if any(artist["artistUri"] == u for u in found) or artist["artistUri"] in named:
            continue
        listed = Counter(
            {(m["month"], b["period"]): b["numStreams"] for m in artist["monthlyStreams"] for b in m["biweeklyStreams"]}
        )
        theirs = [listed[h] for h in halves]
        if sum(theirs) < 5:
            continue
        scores = sorted(
            (
                sum(abs(t - c[h]) for t, h in zip(theirs, halves, strict=True))
                / max(sum(theirs), sum(c[h] for h in halves)),
                names[a],
            )
            for a, c in ours.items()
        )
        best, second = scores[0], scores[1] if len(scores) > 1 else (9.0, "")
        if best[0] <= 0.3 and second[0] >= best[0] + 0.15 and best[1].lower() not in {n.lower() for n in named}:
            found[artist["artistUri"]] = best[1]
            named = named | {best[1]}
    return found


@pytest.mark.samples
def test_only_recaps_of_years_overlapping_the_period_are_compared() -> None:
    store = sample_store(*ERIN)
    for period, years in (("2023-Q4", [2023]), ("2024", []), ("2022-12-31..2023-01-01", [2023])):
        with scoped(store, period, ZONE) as scope:
            assert [c.year for c in compare_service_recaps(scope)] == years
    with scoped(store, "2023-01-01..2023-11-15", ZONE) as scope:
        [same_window] = compare_service_recaps(scope)
    assert not any("Different windows" in line for line in same_window.explanation)


WRAPPED = {
    "topArtists": {
        "numUniqueArtists": 2,
        "topArtists": [
            {
                "artistUri": "spotify:artist:air",
                "monthlyStreams": [{"month": 3, "biweeklyStreams": [{"period": 1, "numStreams": 3}]}],
            },
            {"artistUri": "spotify:artist:unknown", "monthlyStreams": []},
        ],
    },
    "topTracks": {"topTracks": ["spotify:track:sexyboy"], "topTrackPlayCount": 3, "distinctTracksPlayed": 2},
    "yearlyMetrics": {"totalMsListened": 1_200_000, "mostListenedDay": "2022-03-02", "mostListenedDayMinutes": 6.5},
}


def test_a_synthetic_recap_is_compared_over_spotifys_window() -> None:
    plays = [song("Air", "Sexy Boy", utc(2022, 3, d)) for d in (1, 2, 3)]
    plays += [song("Air", "Sexy Boy", utc(2022, 3, 2, 18), ms=100_000), song("Justice", "Genesis", utc(2022, 1, 1, 8))]
    plays += [song("Air", "Kelly", utc(2022, 12, 1)), song("Pod", "Ep", utc(2022, 3, 4), kind=ContentKind.PODCAST)]
    store = synthetic_store(plays)
    items: list[ServiceRecap | LibraryItem] = [
        ServiceRecap(Source.SPOTIFY_ACCOUNT, "Wrapped2022.json", 2022, json.dumps(WRAPPED)),
        LibraryItem(Source.SPOTIFY_ACCOUNT, "YourLibrary.json", LibraryKind.ARTIST, "Air", uri="spotify:artist:air"),
        LibraryItem(
            Source.SPOTIFY_ACCOUNT,
            "YourLibrary.json",
            LibraryKind.TRACK,
            "Sexy Boy",
            "Air",
            uri="spotify:track:sexyboy",
        ),
    ]
    with store.transaction():
        insert_items(store, "me", "wrapped", items)
    with scoped(store, "2022") as scope:
        [comparison] = compare_service_recaps(scope)
    assert comparison == ServiceComparison(
        source="spotify_account",
        year=2022,
        window_start=date(2022, 1, 1),
        window_end=date(2022, 11, 15),
        figures=[
            RecapFigure("minutes listened", "20 min", "18 min", "same window"),
            RecapFigure("podcast minutes", None, "3 min", "same window"),
            RecapFigure("different artists", "2", "2", "same window; music"),
            RecapFigure("different tracks", "2", "2", "same window; music"),
            RecapFigure(
                "top artists",
                "Air, 1 more given by Spotify only as an ID that nothing in your data names",
                "Air, Justice",
                "same window; ours by plays",
            ),
            RecapFigure(
                "top tracks", "Sexy Boy (Air)", "Sexy Boy (Air), Genesis (Justice)", "same window; ours by plays"
            ),
            RecapFigure(
                "streams of Air",
                "3",
                "4",
                "the half-month wholly in our history that Spotify's file lists for this artist",
            ),
            RecapFigure("plays of the top track, Sexy Boy (Air)", "3", "4", "same window"),
            RecapFigure("minutes on the most listened day, 2022-03-02", "6 min", "5 min", ""),
        ],
        explanation=comparison.explanation,
        source_file="Wrapped2022.json",
        compared_start=date(2022, 1, 1),
        compared_end=date(2022, 11, 15),
    )
    assert comparison.explanation[0].startswith("Different windows: Spotify's window (1 Jan to mid-November")
    assert any("1 of Spotify's top artists, tracks and shows" in line for line in comparison.explanation)


def test_an_unreadable_recap_of_a_year_without_plays_says_so() -> None:
    store = synthetic_store([song("Air", "Sexy Boy", utc(2022, 3, 1))])
    with store.transaction():
        insert_items(store, "me", "wrapped", [ServiceRecap(Source.SPOTIFY_ACCOUNT, "Wrapped2021.json", 2021, "{oops")])
    with scoped(store, "all") as scope:
        [comparison] = compare_service_recaps(scope)
    assert (comparison.year, comparison.compared_start, comparison.compared_end) == (2021, None, None)
    minutes = comparison.figures[0]
    assert (minutes.theirs, minutes.ours) == (None, "no plays of ours in the window")
    assert "Spotify: 2021-01-01..2021-11-15; ours: no plays" in minutes.note
    assert any("no plays in 2021-01-01..2021-11-15" in line for line in comparison.explanation)


WRAPPED_2024 = {  # the 2024 shape: eras instead of darkMode; a top artist whose streams stop before our history
    "topArtists": {
        "numUniqueArtists": 3,
        "topArtistFanPercentage": 0.012,
        "topArtists": [
            {
                "artistUri": "spotify:artist:air",
                "monthlyStreams": [{"month": 2, "biweeklyStreams": [{"period": 1, "numStreams": 4}]}],
            },
            {"artistUri": "spotify:artist:justice", "monthlyStreams": []},
        ],
    },
    "topGenres": {"topGenres": ["french house", "electronica"], "numberGenres": 9},
    "topPodcasts": {"topPodcastsUri": ["spotify:show:nobody-names-it"], "topPodcastMilliseconds": 600_000},
    "yearlyMetrics": {"percentGreaterThanWorldwideUsers": 92.51},
    "musicEvolution": {
        "eras": [
            {
                "peakMonth": 2,
                "genre": "french house",
                "mood": "Sunny",
                "descriptor": "Dancing",
                "tracks": [{"trackName": "Sexy Boy"}],
            },
            {"peakMonth": 10, "genre": "electronica", "mood": "Moody", "descriptor": "Late nights", "tracks": []},
        ]
    },
}


def test_everything_a_2024_file_holds_is_shown_as_spotifys_and_nothing_missing_as_zero() -> None:
    plays = [song("Air", "Sexy Boy", utc(2024, 3, d)) for d in (1, 2, 3, 20)]
    plays += [song("Justice", "Genesis", utc(2024, 3, 5)), song("Justice", "D.A.N.C.E.", utc(2024, 11, 2))]
    store = synthetic_store(plays)
    items: list[ServiceRecap | LibraryItem] = [
        ServiceRecap(Source.SPOTIFY_ACCOUNT, "Wrapped2024.json", 2024, json.dumps(WRAPPED_2024)),
        LibraryItem(Source.SPOTIFY_ACCOUNT, "YourLibrary.json", LibraryKind.ARTIST, "Air", uri="spotify:artist:air"),
    ]
    with store.transaction():
        insert_items(store, "me", "wrapped", items)
    with scoped(store, "2024") as scope:
        [comparison] = compare_service_recaps(scope)
    figures = {f.name: f for f in comparison.figures}
    # Missing in the file: missing on the page, never 0.
    assert figures["minutes listened"].theirs is None and figures["different tracks"].theirs is None
    assert "minutes on the most listened day" not in " ".join(figures)
    assert "your listening character" not in figures  # 2023 only
    # Air's streams: the file lists only the first half of February, before our history starts (1 March).
    assert figures["streams of Air"].theirs is None and figures["streams of Air"].ours == "4"
    assert "lists no streams" in figures["streams of Air"].note
    assert (
        figures["how much you listened, against everyone on Spotify"].theirs == "more than 92.5% of listeners worldwide"
    )
    assert figures["how big a fan of your top artist"].theirs == "among the top 1.2% of Air's listeners"
    assert figures["top genres"].theirs == "french house, electronica (of 9 genres)"
    assert figures["top podcasts"].theirs == "1 given by Spotify only as an ID that nothing in your data names"
    assert figures["time on your top podcast"].theirs == "10 min"
    # The eras, as Spotify tells them (peakMonth counts from 0: 2 is March), beside our most played that month.
    assert figures["era 1, peak in March"] == RecapFigure(
        "era 1, peak in March",
        "french house, Sunny, Dancing; Sexy Boy",
        "most played that month: Air",
        "Spotify's own; ours from your plays",
    )
    era2 = figures["era 2, peak in November"]
    assert era2.theirs == "electronica, Moody, Late nights" and era2.ours is None  # November is past our history's end
    assert all("spotify:" not in (f.theirs or "") for f in comparison.figures)
