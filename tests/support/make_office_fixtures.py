#!/usr/bin/env python3
"""Writes the corpus's Office files (tests/fixtures/documents/*.xlsx, *.docx) with openpyxl and
python-docx, the tools other systems write them with: the importer is tested against files a
peer tool produced, not only against XML written by hand.

    pip install openpyxl==3.1.5 python-docx==1.2.0
    python3 tests/support/make_office_fixtures.py

The files are committed; the tests do not need Python. Run this again after changing it.
"""
import datetime
import os

import docx
from docx.oxml.ns import qn
from docx.oxml import OxmlElement
import openpyxl

HERE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "fixtures", "documents")


def xlsx():
    book = openpyxl.Workbook()
    # A first sheet that is no ledger: the importer must find the one that is.
    notes = book.active
    notes.title = "填表说明"
    notes["A1"] = "本表由各责任单位每半月更新一次。"
    sheet = book.create_sheet("整改台账")
    sheet["A1"] = "中共某县县委第一巡察组巡察某县卫生健康局党组反馈问题整改台账"
    sheet.merge_cells("A1:H1")
    sheet.append(["序号", "问题类别", "问题方面", "问题表现", "整改措施", "责任单位", "完成时限", "整改进展"])
    rows = [
        [1, "党的领导", "学习贯彻", "传达学习上级会议精神不及时。", "建立“第一议题”学习制度。", "办公室", datetime.date(2024, 6, 30), "已完成"],
        [2, None, None, "党组会议研究“三重一大”事项记录不完整。", "规范会议记录。", "办公室", datetime.date(2024, 7, 31), "已建立会议记录审核制度，正在推进。"],
        [3, None, "制度执行", "药品采购未严格执行集中采购制度。", "开展药品采购专项检查。", "医政科", datetime.date(2024, 9, 30), "未完成"],
        [4, "全面从严治党", "廉政风险", "医疗机构收费不规范。", "开展收费专项整治。", "规划财务科", "长期坚持", "长期坚持"],
    ]
    for row in rows:
        sheet.append(row)
    for cell in sheet["G"]:
        if isinstance(cell.value, datetime.date):
            cell.number_format = "yyyy年m月d日"
    # The category cell merged down its rows, as ledgers keep it: only the first holds the text.
    sheet.merge_cells("B3:B5")
    sheet.merge_cells("C3:C4")
    book.save(os.path.join(HERE, "17-ledger-workbook.xlsx"))


def numbering_definition(document):
    """A multilevel list as Word writes one for official documents: 一、 / （一） / 1. / （1）."""
    numbering = document.part.numbering_part.element
    abstract = OxmlElement("w:abstractNum")
    abstract.set(qn("w:abstractNumId"), "90")
    for ilvl, (fmt, text) in enumerate(
        [("chineseCounting", "%1、"), ("chineseCounting", "（%2）"), ("decimal", "%3."), ("decimal", "（%4）")]
    ):
        lvl = OxmlElement("w:lvl")
        lvl.set(qn("w:ilvl"), str(ilvl))
        for tag, value in (("w:start", "1"), ("w:numFmt", fmt), ("w:lvlText", text)):
            el = OxmlElement(tag)
            el.set(qn("w:val"), value)
            lvl.append(el)
        abstract.append(lvl)
    # abstractNum elements come before num elements.
    first_num = numbering.find(qn("w:num"))
    if first_num is not None:
        first_num.addprevious(abstract)
    else:
        numbering.append(abstract)
    num = OxmlElement("w:num")
    num.set(qn("w:numId"), "90")
    ref = OxmlElement("w:abstractNumId")
    ref.set(qn("w:val"), "90")
    num.append(ref)
    numbering.append(num)
    return "90"


def numbered(document, text, num_id, ilvl):
    p = document.add_paragraph(text)
    ppr = p._p.get_or_add_pPr()
    numpr = OxmlElement("w:numPr")
    lvl = OxmlElement("w:ilvl")
    lvl.set(qn("w:val"), str(ilvl))
    nid = OxmlElement("w:numId")
    nid.set(qn("w:val"), num_id)
    numpr.append(lvl)
    numpr.append(nid)
    ppr.append(numpr)
    return p


def docx_numbered():
    document = docx.Document()
    document.add_paragraph("中共某县司法局党组关于县委巡察反馈意见整改情况的报告")
    document.add_paragraph(
        "2024年4月15日至6月14日，县委第四巡察组对县司法局党组开展了常规巡察，并于2024年7月20日反馈了巡察意见。"
        "巡察反馈问题3大类3个方面5个问题。"
    )
    num = numbering_definition(document)
    numbered(document, "政治建设方面", num, 0)
    numbered(document, "学习贯彻不够深入", num, 1)
    numbered(document, "理论学习流于形式。", num, 2)
    document.add_paragraph("整改情况：制定理论学习计划，开展专题研讨4次。")
    numbered(document, "学习成果转化不够。", num, 2)
    document.add_paragraph("整改情况：形成调研报告2篇。")
    numbered(document, "作风建设方面", num, 0)
    numbered(document, "服务群众有差距", num, 1)
    numbered(document, "法律援助案件办理不及时。", num, 2)
    document.add_paragraph("整改措施：建立案件办理台账。")
    document.add_paragraph("整改情况：案件平均办理时间缩短至15天。")
    numbered(document, "队伍建设方面", num, 0)
    numbered(document, "干部培训不足", num, 1)
    numbered(document, "新入职人员岗前培训缺失。", num, 2)
    document.add_paragraph("整改情况：组织岗前培训1期。")
    numbered(document, "人民调解员业务能力不强。", num, 2)
    document.add_paragraph("整改措施：")
    # Paragraphs in Word's own "List Number" style: their numbers come from the style.
    document.add_paragraph("举办调解员培训班2期；", style="List Number")
    document.add_paragraph("建立以案代训制度。", style="List Number")
    document.add_paragraph("整改情况：培训调解员120人次。")
    document.save(os.path.join(HERE, "18-word-automatic-numbering.docx"))


def docx_table():
    document = docx.Document()
    document.add_paragraph("县委第五巡察组反馈问题整改落实台账")
    document.add_paragraph("被巡察单位：某县教育局党组")
    table = document.add_table(rows=1, cols=6)
    for cell, text in zip(table.rows[0].cells, ["序号", "问题", "具体表现", "整改措施", "整改时限", "整改情况"]):
        cell.text = text
    for row in [
        ["1", "“三重一大”决策制度执行不严", "2023年有2项大额资金支出未经党组会议研究。", "严格执行集体决策制度。", "2024年8月31日", "已完成"],
        ["2", "教师培训经费使用不规范", "培训经费列支与培训无关的费用3.2万元。", "追回违规列支费用。", "2024年10月31日", "已追回违规费用3.2万元。"],
    ]:
        cells = table.add_row().cells
        for cell, text in zip(cells, row):
            cell.text = text
    document.save(os.path.join(HERE, "19-word-ledger-table.docx"))


if __name__ == "__main__":
    xlsx()
    docx_numbered()
    docx_table()
