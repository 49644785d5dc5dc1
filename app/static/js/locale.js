// Chinese texts for the date picker and Select2, which ship none; used when the page locale is zh.
(function ($) {
  var script = document.currentScript;
  var locale = (script && script.getAttribute('data-locale')) || 'zh';
  if (locale.indexOf('zh') !== 0 || !$) { return; }
  if ($.fn.datepicker) {
    $.fn.datepicker.dates.zh = {
      days: ['星期日', '星期一', '星期二', '星期三', '星期四', '星期五', '星期六'],
      daysShort: ['周日', '周一', '周二', '周三', '周四', '周五', '周六'],
      daysMin: ['日', '一', '二', '三', '四', '五', '六'],
      months: ['一月', '二月', '三月', '四月', '五月', '六月', '七月', '八月', '九月', '十月', '十一月', '十二月'],
      monthsShort: ['1月', '2月', '3月', '4月', '5月', '6月', '7月', '8月', '9月', '10月', '11月', '12月'],
      today: '今天', clear: '清除', format: 'yyyy-mm-dd', titleFormat: 'yyyy年mm月', weekStart: 1
    };
    $.fn.datepicker.defaults.language = 'zh';
    $.fn.datepicker.defaults.todayHighlight = true;
  }
  if ($.fn.select2 && $.fn.select2.defaults) {
    $.fn.select2.defaults.set('language', {
      noResults: function () { return '没有找到匹配项'; },
      searching: function () { return '搜索中…'; },
      loadingMore: function () { return '加载更多…'; },
      inputTooShort: function (a) { return '请再输入至少' + (a.minimum - a.input.length) + '个字符'; },
      errorLoading: function () { return '无法载入结果'; }
    });
  }
})(window.jQuery);
