"""Hook implementations. Imports are lazy: this module loads while the engine starts."""
from marketplace.plugins import hookimpl


@hookimpl
def graphql_queries():
    from .schema import Query

    return Query


@hookimpl
def graphql_mutations():
    from .schema import Mutation

    return Mutation


@hookimpl
def graphql_type_fields():
    from .schema import type_fields

    return type_fields()


# -- fitment and part numbers: filters, search documents and exact matches, declared once --
@hookimpl
def register_product_fields():
    import graphene
    from elasticsearch.dsl import Keyword, Long, Q

    from marketplace.plugins.fields import ProductField

    return [
        ProductField(
            name="fits_vehicle_ids", es_mapping=Long(), values=_vehicle_ids,
            graphql_input={
                "fits_vehicle": graphene.ID(description="A Vehicle ID: products with a variant that fits it."),
                "fits_year": graphene.Int(description="With fitsVehicle: the car's model year must be in its range."),
            },
            clean=_clean_fitment,
            db_filter=lambda products, f: _fitting(products, f["vehicle_id"], f["year"]),
            es_filter=lambda f: Q("term", fits_vehicle_ids=f["vehicle_id"]) if f["year_fits"] else Q("match_none"),
        ),
        ProductField(
            name="part_numbers", es_mapping=Keyword(normalizer="code"), values=_part_numbers,
            graphql_input={"part_number": graphene.String(
                description="OE or manufacturer number; case, spaces, hyphens ignored.")},
            clean=_clean_part_number,
            db_filter=lambda products, f: _with_part_number(products, f["part_number"]),
            es_filter=lambda f: Q("term", part_numbers=f["part_number"]),
            code_match=True,
        ),
    ]


def _vehicle_ids(products):
    from plugins.parts_storefront.models import Fitment

    ids = [p.pk for p in products]
    vehicles = {}
    for product_id, vehicle_id in Fitment.objects.filter(
            variant__product_id__in=ids, variant__is_active=True).values_list("variant__product_id", "vehicle_id"):
        vehicles.setdefault(product_id, set()).add(vehicle_id)
    return {pk: sorted(found) for pk, found in vehicles.items()}


def _part_numbers(products):
    from plugins.parts_storefront.models import PartNumber

    ids = [p.pk for p in products]
    numbers = {}
    for product_id, normalized in PartNumber.objects.filter(
            variant__product_id__in=ids, variant__is_active=True).values_list("variant__product_id", "normalized"):
        numbers.setdefault(product_id, set()).add(normalized)
    return {pk: sorted(found) for pk, found in numbers.items()}


def _clean_fitment(inputs):
    """{"fits_vehicle": Vehicle ID, "fits_year": int} -> {"vehicle_id", "year", "year_fits"}."""
    from marketplace.plugins.graphql import ValidationError, decode_id
    from plugins.parts_storefront.models import Vehicle
    from plugins.parts_storefront.schema import VehicleNode

    if inputs.get("fits_vehicle") is None:
        raise ValidationError("fitsYear needs fitsVehicle.", field="fits_year")
    vehicle_id = int(decode_id(inputs["fits_vehicle"], VehicleNode, field="fits_vehicle"))
    year = inputs.get("fits_year")
    year_fits = year is None or Vehicle.objects.filter(pk=vehicle_id, year_from__lte=year, year_to__gte=year).exists()
    return {"vehicle_id": vehicle_id, "year": year, "year_fits": year_fits}


def _fitting(products, vehicle_id, year):
    from plugins.parts_storefront.models import products_fitting

    return products_fitting(products, vehicle_id, year)


def _clean_part_number(inputs):
    from marketplace.plugins.graphql import ValidationError
    from plugins.parts_storefront.models import normalize_part_number

    number = normalize_part_number(inputs["part_number"])
    if not number:
        raise ValidationError("Give a part number.", code="REQUIRED", field="part_number")
    return {"part_number": number}


def _with_part_number(products, number):
    from plugins.parts_storefront.models import products_with_part_number

    return products_with_part_number(products, number)


# -- published for other plugins (hookspecs.py) ----------------------------------------------
@hookimpl
def garage_vehicles(user_ids):
    from .models import GarageVehicle

    found = {}
    rows = (GarageVehicle.objects.filter(user_id__in=list(user_ids)).order_by("user_id", "-is_default", "pk")
            .values_list("user_id", "vehicle_id", "vehicle__model__make__slug", "vehicle__model__slug", "year",
                         "vehicle__engine", "is_default"))
    for user_id, vehicle_id, make, model, year, engine, is_default in rows:
        found.setdefault(user_id, []).append({"vehicle_id": vehicle_id, "make": make, "model": model, "year": year,
                                              "engine": engine, "is_default": is_default})
    return found


@hookimpl
def parts_garage_vehicle(user_id, garage_vehicle_id):
    from plugins.parts_storefront.models import GarageVehicle

    if not user_id or garage_vehicle_id is None:
        return None
    item = (GarageVehicle.objects.select_related("vehicle__model__make")
            .filter(pk=garage_vehicle_id, user_id=user_id).first())
    if item is None:
        return None
    vehicle = item.vehicle
    label = f"{vehicle.model.make.name_zh} {vehicle.model.name_zh} {item.year} {vehicle.engine}".strip()
    return {"garage_vehicle_id": item.pk, "vehicle_id": vehicle.pk, "year": item.year, "label": label,
            "nickname": item.nickname}


@hookimpl
def parts_fitment(variant_ids, vehicle_id, year):
    from plugins.parts_storefront.models import Fitment

    ids = [int(v) for v in variant_ids]
    answer = {v: None for v in ids}
    rows = Fitment.objects.filter(variant_id__in=ids).values_list(
        "variant_id", "vehicle_id", "vehicle__year_from", "vehicle__year_to")
    for variant_id, fits_vehicle, year_from, year_to in rows:
        fits = fits_vehicle == vehicle_id and (year is None or year_from <= year <= year_to)
        answer[variant_id] = bool(answer[variant_id]) or fits
    return answer


@hookimpl
def parts_numbers(variant_ids):
    from plugins.parts_storefront.models import PartNumber

    ids = [int(v) for v in variant_ids]
    answer = {v: [] for v in ids}
    for variant_id, normalized in PartNumber.objects.filter(variant_id__in=ids).order_by("pk").values_list(
            "variant_id", "normalized"):
        answer[variant_id].append(normalized)
    return answer


@hookimpl
def parts_normalize_number(number):
    from plugins.parts_storefront.models import normalize_part_number

    return normalize_part_number(number)
