"""The Dash application: shell (navigation, footer) around three Dash Pages.

``create_app(curated_dir)`` serves the snapshot published at
``<curated_dir>/current/<etl.warehouse.PUBLICATION>``. Pages live in ``dashboards/pages`` and
hold only ``register_page``, ``layout(**query_params)`` and thin callbacks; data access is in
:mod:`dashboards.data` (the only read path), drawing in :mod:`dashboards.figures`
(docs/ARCHITECTURE.md).

Nothing is fetched from the internet: Dash serves its JavaScript locally
(``serve_locally`` default), fonts are system fonts, and the topojson plotly geo needs is in
``assets/topojson``.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

import dash
import flask
from dash import ALL, Input, Output, dcc, html

from dashboards import access as login
from dashboards import bundles, context, embed, ids, legal, security, users
from dashboards.components import common as components
from dashboards.data import catalogue, queries, unprotected
from dashboards.i18n import DEFAULT_LANG, check_lang, t
from etl.profile import Access, Legal, Server

PACKAGE_DIR = Path(__file__).resolve().parent
PAGES_DIR = PACKAGE_DIR / "pages"
ASSETS_DIR = PACKAGE_DIR / "assets"

_LANG_MARK = "__imon_lang__"
_INDEX = """<!DOCTYPE html>
<html lang="__imon_lang__">
    <head>
        {%metas%}
        <title>{%title%}</title>
        {%favicon%}
        {%css%}
    </head>
    <body>
        {%app_entry%}
        <footer>
            {%config%}
            {%scripts%}
            {%renderer%}
        </footer>
    </body>
</html>
"""


def create_app(
    curated_dir: Path | Mapping[str, Path],
    lang: str = DEFAULT_LANG,
    *,
    settings: Server | None = None,
    legal_details: Legal | Mapping[str, Legal] | None = None,
    access: Access | Mapping[str, Access] | None = None,
    keep_snapshots: Mapping[str, int] | None = None,
    internal: bool = False,
) -> dash.Dash:
    """Build the dashboard for one curated directory or several instances
    ``{name: curated directory}`` (the first is the default; ``?instance=name`` picks one).

    ``settings``: the profile's ``server:`` section (headers, limits, proxy, path prefix;
    :mod:`dashboards.security`); ``legal_details``: its ``legal:`` section, one for all
    instances or ``{name: Legal}`` (the legal pages, :mod:`dashboards.legal`); ``access``:
    its ``access:`` section, one for all or ``{name: Access}`` (login and closed instances,
    :mod:`dashboards.access`; ``users_file`` default ``<curated directory>/users.json``);
    ``keep_snapshots``: ``{name: keep_snapshots}`` of the profiles, for a publish from the
    internal page (default 3, the profile's default); ``internal``: an internal server
    (``imon serve --internal``): every instance needs a login whatever its profile says,
    and the office may see unprotected values (:mod:`dashboards.data.unprotected`).

    Raises :class:`queries.WarehouseNotFoundError` if nothing is published there yet.
    The ``current`` link is resolved again for every request, so a new snapshot swapped in
    by the build is served without a restart.
    """
    given = curated_dir if isinstance(curated_dir, Mapping) else {"": curated_dir}
    instances = {name: str(Path(path).resolve()) for name, path in given.items()}
    if not instances:
        raise ValueError("create_app needs at least one curated directory")
    for path in instances.values():
        queries.open_warehouse(Path(path))  # fail fast with a clear message
    settings = settings or Server()
    server = flask.Flask(__name__)
    server.config[context.INSTANCES_KEY] = instances
    server.config[context.LANG_KEY] = check_lang(lang)
    server.config[context.LEGAL_KEY] = _per_instance(legal_details, instances, Legal)
    server.config[context.KEEP_KEY] = dict(keep_snapshots or {})
    server.config[unprotected.INTERNAL_KEY] = internal
    app = _Dash(
        __name__,
        server=server,
        use_pages=True,
        pages_folder=str(PAGES_DIR),
        assets_folder=str(ASSETS_DIR),
        title=t("app.title", lang),
        update_title=None,
        suppress_callback_exceptions=False,
        compress=True,  # gzip/brotli: the scripts and the map frames are large
        requests_pathname_prefix=settings.path_prefix,  # the public path behind a proxy
    )
    rules = _access(access, instances)
    if internal:  # closed, whatever the profiles say: no stranger reaches this process
        rules = {name: r.model_copy(update={"public": False}) for name, r in rules.items()}
    login.protect(app, rules)  # first: no body is read for a stranger
    security.secure(app, settings)
    embed.register(server)
    bundles.register(server)  # after Dash's flask-compress: runs before it
    app.index_string = _INDEX
    with server.app_context():  # Dash calls the layout function once to validate it
        app.layout = _shell
    _register_nav_highlight(app)
    _bind_page_callbacks(app)
    security.trust_inline_scripts(app)  # every inline script is known now
    return app


def _per_instance(details: object, instances: Mapping, model: type) -> dict:
    """``{instance: model}`` (``Legal``, ``Access``); one ``model`` applies to every
    instance, a missing one is the model's default."""
    if details is None or isinstance(details, model):
        return dict.fromkeys(instances, details or model())
    assert isinstance(details, Mapping)
    unknown = set(details) - set(instances)
    if unknown:
        raise ValueError(
            f"{model.__name__} details for unknown instances: {', '.join(sorted(unknown))}"
        )
    return {name: details.get(name) or model() for name in instances}


def _access(given: Access | Mapping[str, Access] | None, instances: Mapping) -> dict:
    """``{instance: Access}`` with every users file named (default in the curated dir)."""
    return {
        name: rules.model_copy(
            update={"users_file": rules.users_file or Path(instances[name]) / users.USERS_FILE}
        )
        for name, rules in _per_instance(given, instances, Access).items()
    }


class _Dash(dash.Dash):
    """Dash with the page's language in ``<html lang>`` (screen readers, hyphenation)."""

    def interpolate_index(self, **kwargs: str) -> str:
        return super().interpolate_index(**kwargs).replace(_LANG_MARK, context.lang(), 1)


def _shell() -> html.Div:
    """Navigation, the current page and the footer (built per request: title from meta)."""
    wh, lang = context.warehouse(), context.lang()
    meta = catalogue.meta(wh)
    signed_in = login.current_user() is not None
    pages = [
        p
        for p in dash.page_registry.values()
        if p.get("nav_key") and (signed_in or not p.get("login_only"))
    ]
    nav_pages = [{**p, "name": t(p["nav_key"], lang)} for p in sorted(pages, key=_order)]
    return html.Div(
        [
            components.skip_link(lang),
            *filter(None, [login.user_bar(lang)]),  # who is logged in, logout
            *filter(None, [_preview_banner(lang)]),
            dcc.Location(id=ids.NAV_LOCATION),
            components.navbar(
                meta.get("title"),
                nav_pages,
                lang,
                _instance_titles() if len(context.instances()) > 1 else {},
            ),
            html.Main(dash.page_container, className="page", id=ids.MAIN, tabIndex="-1"),
            components.footer(meta, lang, _legal_links(lang)),
        ],
        className="shell",
    )


def _preview_banner(lang: str) -> html.Div | None:
    """On every page of the preview (``?snapshot=staged``): not yet published."""
    if not context.preview():
        return None
    return html.Div(
        t("preview.banner", lang), id="preview-banner", className="notice preview", role="status"
    )


def _legal_links(lang: str) -> list[tuple[str, str]]:
    """Footer links to Impressum, Datenschutz and Barrierefreiheit (same data set and
    language: both change only with a new page load, which draws the footer again)."""
    query = context.persistent_query()
    return [
        (t(f"legal.{page}", lang), dash.get_relative_path(path) + query)
        for page, path in legal.PAGES.items()
    ]


def _instance_titles() -> dict[str, str]:
    """Name -> title (``meta.title``) of every instance this app serves."""
    return {
        name: catalogue.meta(queries.open_warehouse(path)).get("title") or name
        for name, path in context.instances().items()
        if login.may_see(name)  # a closed instance is not even named to others
    }


def _order(page: dict) -> int:
    return page["order"] if page.get("order") is not None else 99


def _register_nav_highlight(app: dash.Dash) -> None:
    """Mark the navigation link of the current page (class ``active``)."""
    app.clientside_callback(
        dash.ClientsideFunction(namespace="imon", function_name="navActive"),
        Output({"type": ids.NAV, "path": ALL}, "className"),
        Output({"type": ids.NAV, "path": ALL}, "href"),
        Input(ids.NAV_LOCATION, "href"),
    )
    app.clientside_callback(  # language and instance links keep the current view
        dash.ClientsideFunction(namespace="imon", function_name="settingLinks"),
        Output({"type": ids.SETTING, "key": ALL, "value": ALL}, "href"),
        Input(ids.NAV_LOCATION, "href"),
    )


def _bind_page_callbacks(app: dash.Dash) -> None:
    """Attach the pages' ``dash.callback``s to this app now.

    Dash moves callbacks registered with ``dash.callback`` from a process-wide list to the
    app on its first request. A warm-up request does that immediately, so several apps
    (e.g. in tests) can be created in one process, and a broken warehouse fails at startup.
    """
    response = app.server.test_client().get("/_dash-layout", environ_base={login.WARM_UP: True})
    if response.status_code != 200:
        raise RuntimeError(
            f"Dashboard start-up failed: GET /_dash-layout returned "
            f"{response.status_code}: {response.get_data(as_text=True)[:500]}"
        )
