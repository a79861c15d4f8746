"""Routing a worker-day: optimal up to 10 stops (checked by brute force), within 5% of an exact or
long-running reference beyond."""

import random
from itertools import pairwise, permutations

import numpy as np
import pytest

from proactive.field.routing import (
    EXACT_LIMIT,
    LOCAL_LIMIT,
    Matrix,
    Tour,
    distance_matrix,
    held_karp,
    local_search,
    ortools_tour,
    plan_route,
    tour_metres,
)
from proactive.geo import Point, Walking

SITE = Point(30.195, 120.185)  # a community service site in Binjiang, Hangzhou
REFERENCE_MS = 500  # OR-Tools' guided local search, run far longer than plan_route lets it


def homes(count: int, seed: int) -> list[Point]:
    rng = random.Random(seed)
    return [Point(rng.uniform(30.17, 30.22), rng.uniform(120.14, 120.23)) for _ in range(count)]


def walked(depot: Point, stops: list[Point], order: tuple[int, ...]) -> float:
    """The route's length recomputed leg by leg from the points themselves."""
    path = [depot, *(stops[i] for i in order), depot]
    return sum(Walking().metres(a, b) for a, b in pairwise(path))


def brute_force(matrix: Matrix) -> float:
    """The shortest closed tour from node 0, trying every order of the other nodes."""
    stops = range(1, len(matrix))
    return min(tour_metres(matrix, [0, *order]) for order in permutations(stops))


def brute_force_numpy(matrix: Matrix) -> float:
    """The same, every order at once: for 9 and 10 stops (362,880 and 3,628,800 orders)."""
    d, orders = np.asarray(matrix), np.zeros((1, 0), dtype=np.int8)
    for node in range(1, len(matrix)):  # insert the next node at every place of every order
        width = orders.shape[1]
        grown = [np.insert(orders, place, node, axis=1) for place in range(width + 1)]
        orders = np.concatenate(grown)
    legs = d[orders[:, :-1], orders[:, 1:]].sum(axis=1)
    return float((d[0, orders[:, 0]] + legs + d[orders[:, -1], 0]).min())


def assert_valid(route: Tour, depot: Point, stops: list[Point]) -> None:
    assert sorted(route.order) == list(range(len(stops)))
    assert route.metres == pytest.approx(walked(depot, stops, route.order), rel=1e-9, abs=1e-6)
    assert route.minutes == pytest.approx(route.metres / 75)  # 4.5 km/h is 75 m a minute


@pytest.mark.parametrize("seed", range(60))
def test_up_to_eight_stops_the_route_is_optimal(seed: int) -> None:
    stops = homes(1 + seed % 8, seed)
    route = plan_route(SITE, stops)
    assert_valid(route, SITE, stops)
    matrix = distance_matrix([SITE, *stops], Walking())
    assert route.metres == pytest.approx(brute_force(matrix), rel=1e-9)


@pytest.mark.parametrize(("count", "seed"), [(9, 1), (9, 2), (10, 3)])
def test_nine_and_ten_stops_are_optimal_too(count: int, seed: int) -> None:
    stops = homes(count, seed)
    route = plan_route(SITE, stops)
    assert_valid(route, SITE, stops)
    matrix = distance_matrix([SITE, *stops], Walking())
    assert route.metres == pytest.approx(brute_force_numpy(matrix), rel=1e-9)


def test_the_numpy_brute_force_agrees_with_itertools() -> None:
    matrix = distance_matrix([SITE, *homes(7, 99)], Walking())
    assert brute_force_numpy(matrix) == pytest.approx(brute_force(matrix), rel=1e-12)


def test_no_stops_is_an_empty_route() -> None:
    assert plan_route(SITE, []) == Tour(order=(), metres=0.0, minutes=0.0)


def test_one_stop_is_there_and_back() -> None:
    home = Point(30.2, 120.2)
    route = plan_route(SITE, [home])
    assert route.order == (0,)
    assert route.metres == pytest.approx(2 * Walking().metres(SITE, home))


def test_minutes_follow_the_walking_speed() -> None:
    stops = homes(6, 7)
    slow, fast = plan_route(SITE, stops), plan_route(SITE, stops, Walking(speed_kmh=6.0))
    assert fast.metres == pytest.approx(slow.metres)
    assert fast.minutes == pytest.approx(fast.metres / 100)


@pytest.mark.parametrize("count", [8, EXACT_LIMIT, 18, LOCAL_LIMIT + 5])
def test_the_same_stops_give_the_same_route(count: int) -> None:
    stops = homes(count, 5)
    assert plan_route(SITE, stops) == plan_route(SITE, stops)


@pytest.mark.parametrize("count", [5, 15, 30])
def test_stops_on_one_street_are_walked_out_and_back(count: int) -> None:
    # along a meridian great-circle distances add up, so the best tour is to the far end and back
    stops = [Point(SITE.lat + 0.001 * k, SITE.lon) for k in range(1, count + 1)]
    random.Random(count).shuffle(stops)
    route = plan_route(SITE, stops)
    assert_valid(route, SITE, stops)
    assert route.metres == pytest.approx(
        2 * Walking().metres(SITE, max(stops, key=lambda p: p.lat)), rel=1e-9
    )


@pytest.mark.parametrize("copies", [2, 3, 6])
def test_duplicate_homes_cost_nothing_extra(copies: int) -> None:
    distinct = homes(5, copies)
    stops = [home for home in distinct for _ in range(copies)]
    route = plan_route(SITE, stops)
    assert_valid(route, SITE, stops)
    assert route.metres == pytest.approx(plan_route(SITE, distinct).metres, rel=1e-9)


def test_every_stop_at_the_site_is_a_route_of_nothing() -> None:
    for count in (3, 14, 27):
        route = plan_route(SITE, [SITE] * count)
        assert sorted(route.order) == list(range(count))
        assert route.metres == 0


@pytest.mark.parametrize(("count", "seed"), [(11, 1), (11, 2), (12, 3), (12, 4), (13, 5)])
def test_local_search_matches_held_karp_within_five_percent(count: int, seed: int) -> None:
    matrix = distance_matrix([SITE, *homes(count, seed)], Walking())
    optimum = tour_metres(matrix, held_karp(matrix))
    assert optimum <= tour_metres(matrix, local_search(matrix)) <= 1.05 * optimum


def test_fifteen_stops_within_five_percent_of_the_optimum() -> None:
    stops = homes(15, 15)
    route = plan_route(SITE, stops)
    assert_valid(route, SITE, stops)
    matrix = distance_matrix([SITE, *stops], Walking())
    optimum = tour_metres(matrix, held_karp(matrix))  # Held–Karp still runs at 15, in ~0.1 s
    assert optimum - 1e-6 <= route.metres <= 1.05 * optimum


@pytest.mark.parametrize("count", [20, 25, 40])
def test_larger_days_within_five_percent_of_long_or_tools(count: int) -> None:
    stops = homes(count, count)
    route = plan_route(SITE, stops)
    assert_valid(route, SITE, stops)
    matrix = distance_matrix([SITE, *stops], Walking())
    reference = ortools_tour(matrix, REFERENCE_MS)
    assert reference is not None
    assert route.metres <= 1.05 * tour_metres(matrix, reference)


def test_local_search_alone_holds_on_forty_stops() -> None:
    # what plan_route falls back to should OR-Tools find nothing
    matrix = distance_matrix([SITE, *homes(40, 41)], Walking())
    reference = ortools_tour(matrix, REFERENCE_MS)
    assert reference is not None
    assert tour_metres(matrix, local_search(matrix)) <= 1.05 * tour_metres(matrix, reference)
