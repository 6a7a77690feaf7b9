"""Submit admin forms the way a browser does: read the page, change fields, post."""

from bs4 import BeautifulSoup


def form_values(response, form_id):
    """The values a browser would submit from the form ``form_id`` (no button)."""
    soup = BeautifulSoup(response.content, "html.parser")
    form = soup.find("form", id=form_id)
    assert form is not None, f"no form #{form_id} on the page"
    data = {}
    for field in form.find_all(["input", "select", "textarea"]):
        name = field.get("name")
        if not name or field.has_attr("disabled"):
            continue
        if field.name == "textarea":
            # Browsers drop one leading newline, as the HTML spec says.
            text = field.text
            data.setdefault(name, []).append(text[1:] if text.startswith("\n") else text)
        elif field.name == "select":
            chosen = [
                option.get("value", option.text) for option in field.find_all("option") if option.has_attr("selected")
            ]
            if not chosen and not field.has_attr("multiple"):
                first = field.find("option")
                chosen = [first.get("value", first.text)] if first else []
            data.setdefault(name, []).extend(chosen)
        else:
            kind = field.get("type", "text")
            if kind in {"submit", "button", "image", "reset", "file"}:
                continue
            if kind in {"checkbox", "radio"} and not field.has_attr("checked"):
                continue
            data.setdefault(name, []).append(field.get("value", "on" if kind in {"checkbox", "radio"} else ""))
    return data


def change_form(client, obj):
    """(url, values) of the admin change form of ``obj``."""
    opts = obj._meta
    url = f"/admin/{opts.app_label}/{opts.model_name}/{obj.pk}/change/"
    response = client.get(url)
    assert response.status_code == 200, response.status_code
    return url, form_values(response, f"{opts.model_name}_form")


def status_options(client, obj):
    opts = obj._meta
    response = client.get(f"/admin/{opts.app_label}/{opts.model_name}/{obj.pk}/change/")
    soup = BeautifulSoup(response.content, "html.parser")
    return [option["value"] for option in soup.select("select[name=status] option")]


def text_of(response):
    return BeautifulSoup(response.content, "html.parser").get_text(" ", strip=True)
